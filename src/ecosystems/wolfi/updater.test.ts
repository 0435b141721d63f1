import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Vulnerability } from '../../model/vulnerability.ts';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { chainguardUpdater, wolfiUpdater } from './updater.ts';
import type { Updater } from '../../updater/updater.ts';

async function records(u: Updater, location: string): Promise<Vulnerability[]> {
  const opened = await u.open!(location, {});
  if ('notModified' in opened) throw new Error('not modified');
  const out: Vulnerability[] = [];
  for await (const v of u.parse(opened.stream, { location })) out.push(v);
  return out;
}

test('wolfi and chainguard security.json: records per secfix, "0" never affected, apk2, links', async (t) => {
  const wolfi = requireSharedData(t, 'feeds/wolfi-chainguard/vunnel/wolfi/input/secdb/security.json');
  const cg = requireSharedData(t, 'feeds/wolfi-chainguard/vunnel/chainguard/input/secdb/security.json');
  if (!wolfi || !cg) return;
  const w = await records(wolfiUpdater, wolfi);
  assert.ok(w.length > 50);
  assert.ok(w.every((v) => v.updater === 'wolfi' && v.dist.did === 'wolfi' && v.dist.versionId === '' && v.versionScheme === 'apk2' && v.fixedInVersion !== '0'));
  assert.ok(!w.some((v) => v.package.name === 'coreutils'), 'coreutils has only a "0" entry');
  const apko = w.filter((v) => v.package.name === 'apko');
  assert.ok(apko.length > 0 && !apko.some((v) => v.name === 'GHSA-jq35-85cj-fj4p'), 'apko\'s "0" GHSA is not a record');
  assert.equal(w.find((v) => v.name === 'CVE-2022-38128')!.links, 'https://www.cve.org/CVERecord?id=CVE-2022-38128');
  const c = await records(chainguardUpdater, cg);
  assert.ok(c.every((v) => v.updater === 'chainguard' && v.dist.did === 'chainguard' && v.repo.name === 'chainguard'));
  assert.ok(c.some((v) => v.package.name === 'glibc' && v.name === 'CVE-2023-25139' && v.fixedInVersion === '2.37-r1'));
  assert.ok(!c.some((v) => v.name === 'CVE-2019-1010022'));
});
