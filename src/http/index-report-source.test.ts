import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IndexReport } from '../model/index-report.ts';
import { indexReportJson } from '../model/clair-json.ts';
import { remoteIndexReports } from './index-report-source.ts';
import { INTERNAL_INDEX_REPORT_TYPE } from './index-report-json.ts';

// A matcher apart from its indexer: a clair-ts indexer's stored report keeps what Clair's JSON cannot carry (the
// layer order, a language package's OS owner); a Clair indexer's JSON still reads.

const report: IndexReport = {
  manifestHash: `sha256:${'a'.repeat(64)}`, state: 'IndexFinished', success: true, err: '',
  packages: {
    '1': { name: 'jinja2', version: '3.1.2', kind: 'binary', arch: '', module: '', cpe: '', packageDb: 'python:usr/lib/python3/dist-packages/Jinja2-3.1.2.egg-info', repositoryHint: '', ownedBy: { name: 'python3-jinja2', version: '3.1.2-1+deb12u3', packageDb: 'var/lib/dpkg/status' } },
  },
  distributions: {}, repositories: { '1': { name: 'pypi', key: '', uri: 'https://pypi.org/simple', cpe: '' } },
  environments: { '1': [{ packageDb: 'python:usr/lib/python3/dist-packages/Jinja2-3.1.2.egg-info', introducedIn: `sha256:${'2'.repeat(64)}`, distributionId: '', repositoryIds: ['1'] }] },
  layers: [`sha256:${'1'.repeat(64)}`, `sha256:${'2'.repeat(64)}`],
};

function server(type: string, body: unknown): typeof fetch {
  return (async (_url: string | URL | Request, init?: RequestInit) => {
    assert.match(String((init?.headers as Record<string, string>)['accept']), /^application\/vnd\.clair-ts\.index-report\.v1\+json, application\/json;q=0\.5$/);
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': type } });
  }) as typeof fetch;
}

test('remote index reports: the stored report from a clair-ts indexer keeps ownership and layer order', async () => {
  const got = await remoteIndexReports('http://indexer', { fetch: server(INTERNAL_INDEX_REPORT_TYPE, report) }).get(report.manifestHash);
  assert.deepEqual(got, report);
  assert.equal(got?.packages['1']?.ownedBy?.name, 'python3-jinja2');
});

test("remote index reports: Clair's JSON from any other indexer reads as before, without what it cannot carry", async () => {
  const got = await remoteIndexReports('http://indexer', { fetch: server('application/vnd.clair.index_report.v1+json', indexReportJson(report)) }).get(report.manifestHash);
  assert.equal(got?.packages['1']?.name, 'jinja2');
  assert.equal(got?.packages['1']?.ownedBy, undefined);
});

test('remote index reports: a stored report of the wrong shape is an error naming the indexer', async () => {
  await assert.rejects(
    remoteIndexReports('http://indexer', { fetch: server(INTERNAL_INDEX_REPORT_TYPE, { manifestHash: 'x', packages: [] }) }).get('x'),
    /indexer http:\/\/indexer report for x: index report's packages is not an object/,
  );
});
