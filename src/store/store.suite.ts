import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SCAN_RESULTS_PER_MANIFEST, type Store } from './store.ts';
import type { Subscription } from '../model/subscription.ts';
import { newVulnerability, type Vulnerability } from '../model/vulnerability.ts';
import type { IndexReport } from '../model/index-report.ts';
import type { LayerReport } from '../model/layer-report.ts';
import { queryAdmits, type VulnerabilityQuery } from '../matcher/vulnerability-query.ts';
import { assertPackageIndex, dpkg, h, libssl3, packageIndexReports, reportOf } from './package-index-fixture.ts';

// One behavioural suite for every Store implementation: sqlite-store.test.ts and postgres-store.test.ts call it.

function vuln(name: string, pkg: string, codename: string, fixed = ''): Vulnerability {
  return newVulnerability({
    updater: 'debian',
    name,
    package: { name: pkg, kind: 'source', module: '', arch: '' },
    dist: { did: 'debian', versionId: '', versionCodeName: codename, cpe: '', name: '', version: '', prettyName: '', arch: '' },
    fixedInVersion: fixed,
    versionScheme: 'dpkg',
  });
}

function report(hash: string, names: [string, string?][]): IndexReport {
  const packages: IndexReport['packages'] = {};
  names.forEach(([name, source], i) => {
    packages[String(i)] = {
      name, version: '1', kind: 'binary', arch: 'amd64', module: '', cpe: '', packageDb: 'var/lib/dpkg/status', repositoryHint: '',
      ...(source ? { source: { name: source, version: '1' } } : {}),
    };
  });
  return { manifestHash: hash, state: 'IndexFinished', success: true, err: '', packages, distributions: {}, repositories: {}, environments: {}, layers: [] };
}

export function storeSuite(name: string, open: () => Promise<Store>): void {
  const withStore = (title: string, fn: (s: Store) => Promise<void>) =>
    test(`${name}: ${title}`, async () => {
      const s = await open();
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    });

  withStore('layer reports round-trip by digest and scanner set', async (s) => {
    const r: LayerReport = {
      digest: 'sha256:' + 'a'.repeat(64), scannerSet: 'dpkg@1', packageDbs: [], distributions: [], repositories: [],
      whiteouts: ['etc/x'], opaqueDirs: [], errors: [], size: 10,
    };
    assert.equal(await s.getLayerReport(r.digest, 'dpkg@1'), undefined);
    await s.putLayerReport(r);
    assert.deepEqual(await s.getLayerReport(r.digest, 'dpkg@1'), r);
    assert.equal(await s.getLayerReport(r.digest, 'dpkg@2'), undefined, 'another scanner set misses the cache');
    await s.putLayerReport({ ...r, size: 11 });
    assert.equal((await s.getLayerReport(r.digest, 'dpkg@1'))?.size, 11);
    await s.deleteLayerReports([r.digest], 'dpkg@2');
    assert.ok(await s.getLayerReport(r.digest, 'dpkg@1'), 'only the named scanner set is deleted');
    await s.deleteLayerReports([r.digest, 'sha256:' + 'b'.repeat(64)], 'dpkg@1');
    assert.equal(await s.getLayerReport(r.digest, 'dpkg@1'), undefined);
  });

  withStore('index reports: put, replace, find by package name, delete', async (s) => {
    const h1 = 'sha256:' + '1'.repeat(64);
    const h2 = 'sha256:' + '2'.repeat(64);
    await s.putIndexReport(report(h1, [['libssl3', 'openssl'], ['bash']]), 'state-1');
    await s.putIndexReport(report(h2, [['openssl']]), 'state-1');
    assert.equal((await s.getIndexReport(h1))?.indexState, 'state-1');
    assert.deepEqual(await s.manifestsWithPackages(['openssl']), [h1, h2].sort());
    const missing = 'sha256:' + '3'.repeat(64);
    const stamps1 = await s.getReportStamps([h1, missing, h2]);
    assert.equal(stamps1.indexReports.length, 3);
    assert.ok(stamps1.indexReports[0] && stamps1.indexReports[2], 'a stored report has a stamp');
    assert.equal(stamps1.indexReports[1], undefined, 'a manifest without a report has none');
    assert.deepEqual(await s.manifestsWithPackages(['bash', 'nothing']), [h1]);
    await s.putIndexReport(report(h1, [['zsh']]), 'state-2');
    assert.deepEqual(await s.manifestsWithPackages(['bash']), [], 'replacing a report replaces its names');
    assert.equal((await s.getIndexReport(h1))?.indexState, 'state-2');
    const stamps2 = await s.getReportStamps([h1, h2]);
    assert.notEqual(stamps2.indexReports[0], stamps1.indexReports[0], 'a replaced report has a new stamp');
    assert.equal(stamps2.indexReports[1], stamps1.indexReports[2], 'the other report keeps its stamp');
    assert.equal(stamps2.operations, stamps1.operations, 'index reports do not change the operations stamp');
    assert.deepEqual(await s.deleteIndexReports([h1, 'sha256:' + '3'.repeat(64)]), [h1]);
    assert.equal(await s.getIndexReport(h1), undefined);
    assert.deepEqual(await s.manifestsWithPackages(['zsh']), []);
    assert.deepEqual((await s.getReportStamps([h1])).indexReports, [undefined]);
  });

  withStore('scan results: returned while their stamps are current, dropped with their manifest, bounded', async (s) => {
    const h1 = 'sha256:' + '4'.repeat(64);
    const h2 = 'sha256:' + '5'.repeat(64);
    const result = (text: string) => ({ meta: JSON.stringify({ text }), output: new TextEncoder().encode(text) });
    const text = async (hash: string, variant: string) => {
      const got = await s.getScanResult(hash, variant);
      return got ? { meta: (JSON.parse(got.meta) as { text: string }).text, output: new TextDecoder().decode(got.output), code: got.codeStamp } : undefined;
    };
    const stamps = async (hash: string) => {
      const st = await s.getReportStamps([hash]);
      return { operations: st.operations, indexReport: st.indexReports[0]! };
    };
    assert.equal(await s.putScanResult(h1, 'json', { operations: '', indexReport: '' }, 'code-1', result('x')), false, 'no index report: nothing stored');
    await s.putIndexReport(report(h1, [['bash']]), 'state-1');
    await s.putIndexReport(report(h2, [['bash']]), 'state-1');
    const first = await stamps(h1);
    assert.equal(await s.putScanResult(h1, 'json', first, 'code-1', result('one')), true);
    assert.equal(await s.putScanResult(h2, 'json', await stamps(h2), 'code-1', result('two')), true);
    assert.deepEqual(await text(h1, 'json'), { meta: 'one', output: 'one', code: 'code-1' });
    assert.equal(await text(h1, 'table'), undefined, 'another variant');
    await s.putScanResult(h1, 'json', first, 'code-2', result('one again'));
    assert.deepEqual(await text(h1, 'json'), { meta: 'one again', output: 'one again', code: 'code-2' }, 'replaced');

    // An update operation committed makes every stored result stale; one put with the stamps read before it is refused.
    const w = await s.beginUpdateOperation('debian');
    await w.add([vuln('CVE-1', 'bash', 'bookworm')]);
    await w.commit('fp-scan');
    assert.equal(await text(h1, 'json'), undefined, 'a new operation: stale');
    assert.equal(await text(h2, 'json'), undefined);
    assert.equal(await s.putScanResult(h1, 'json', first, 'code-1', result('late')), false, 'computed before the operation: not stored');
    assert.equal(await text(h1, 'json'), undefined);
    const second = await stamps(h1);
    assert.equal(await s.putScanResult(h1, 'json', second, 'code-1', result('three')), true);
    assert.equal((await text(h1, 'json'))?.output, 'three');

    // The manifest indexed again: stale, and stamps read before it are refused.
    await s.putIndexReport(report(h1, [['bash'], ['zsh']]), 'state-2');
    assert.equal(await text(h1, 'json'), undefined, 'a new index report: stale');
    assert.equal(await s.putScanResult(h1, 'json', second, 'code-1', result('late')), false);
    assert.equal(await s.putScanResult(h1, 'json', await stamps(h1), 'code-1', result('four')), true);
    assert.equal(await s.putScanResult(h2, 'json', await stamps(h2), 'code-1', result('five')), true);

    // Deleted with the manifest, and all of them with an update operation.
    await s.deleteIndexReports([h1]);
    assert.equal(await text(h1, 'json'), undefined);
    await s.putIndexReport(report(h1, [['bash']]), 'state-1');
    assert.equal(await text(h1, 'json'), undefined, 'a manifest indexed again does not bring its old results back');
    assert.equal((await text(h2, 'json'))?.output, 'five');
    const [op] = await s.listUpdateOperations('debian');
    assert.deepEqual(await s.deleteUpdateOperations([op!.ref]), [op!.ref]);
    assert.equal(await text(h2, 'json'), undefined, 'an operation deleted: stale');

    // At most MAX_SCAN_RESULTS_PER_MANIFEST per manifest, the oldest going first.
    const now = await stamps(h2);
    for (let i = 0; i <= MAX_SCAN_RESULTS_PER_MANIFEST; i++) assert.equal(await s.putScanResult(h2, `v${i}`, now, 'code-1', result(`r${i}`)), true);
    assert.equal(await text(h2, 'v0'), undefined, 'the oldest went');
    for (let i = 1; i <= MAX_SCAN_RESULTS_PER_MANIFEST; i++) assert.equal((await text(h2, `v${i}`))?.output, `r${i}`);
  });

  withStore('the package index: each distinct package once, under its lookup names, kept with its manifests', async (s) => {
    for (const r of packageIndexReports()) await s.putIndexReport(r, 'state-1');
    await assertPackageIndex(s);
    assert.deepEqual(await s.indexedPackagesNamed([]), []);
    assert.deepEqual(await s.manifestsWithIndexedPackages([]), new Map());
    // Replacing a report relinks its manifest; a package no manifest holds any more leaves the index.
    await s.putIndexReport(reportOf(h(1), [libssl3, dpkg('zsh', '5.9-4')], packageIndexReports()[0]!.distributions['1']), 'state-2');
    assert.deepEqual(await s.indexedPackagesNamed(['bash']), [], 'bash was held by the replaced report only');
    const [zsh] = await s.indexedPackagesNamed(['zsh']);
    assert.deepEqual([...(await s.manifestsWithIndexedPackages([zsh!.id])).values()], [[h(1)]]);
    const [ssl3] = (await s.indexedPackagesNamed(['libssl3']));
    assert.deepEqual((await s.manifestsWithIndexedPackages([ssl3!.id])).get(ssl3!.id)!.sort(), [h(1), h(2)], 'a package both versions hold stays');
    // Storing the same report again changes nothing.
    await s.putIndexReport(packageIndexReports()[1]!, 'state-2');
    assert.deepEqual((await s.indexedPackagesNamed(['libssl3'])).map((p) => p.id), [ssl3!.id]);
    assert.deepEqual(await s.deleteIndexReports([h(1), h(3)]), [h(1), h(3)]);
    assert.deepEqual(await s.indexedPackagesNamed(['zsh', 'libssl1.1']), [], 'deleted with the last manifests holding them');
    assert.deepEqual([...(await s.manifestsWithIndexedPackages([ssl3!.id])).entries()], [[ssl3!.id, [h(2)]]]);
    assert.deepEqual(await s.manifestsWithIndexedPackages([zsh!.id]), new Map(), 'an id no longer in the index has no manifests');
    await s.deleteIndexReports([h(2), h(4)]);
    assert.deepEqual(await s.indexedPackagesNamed(['openssl', 'zope-interface']), []);
    // A manifest indexed again after its deletion is found again.
    await s.putIndexReport(packageIndexReports()[1]!, 'state-3');
    assert.deepEqual(await s.manifestsWithPackages(['openssl']), [h(2)]);
  });

  withStore('update operations are invisible until commit and whole after it', async (s) => {
    const w = await s.beginUpdateOperation('debian');
    await w.add([vuln('CVE-1', 'openssl', 'bookworm', '3.0.1'), vuln('CVE-2', 'curl', 'bookworm')]);
    const q = [{ packageNames: ['openssl', 'curl'], updaterPrefix: 'debian', dist: { did: 'debian', versionCodeName: 'bookworm' } }];
    assert.deepEqual(await s.queryVulnerabilities(q), [[]], 'nothing visible before commit');
    assert.deepEqual(await s.listUpdateOperations('debian'), []);
    const before = (await s.getReportStamps([])).operations;
    const op = await w.commit('fp-1');
    const after = (await s.getReportStamps([])).operations;
    assert.notEqual(after, before, 'a commit changes the operations stamp');
    assert.equal(op.count, 2);
    const [found] = await s.queryVulnerabilities(q);
    assert.deepEqual(found!.map((v) => v.name).sort(), ['CVE-1', 'CVE-2']);
    assert.equal(found!.find((v) => v.name === 'CVE-1')!.fixedInVersion, '3.0.1');
    assert.deepEqual((await s.listUpdateOperations()).map((o) => o.ref), [op.ref]);
    assert.equal((await s.getUpdateOperation(op.ref))?.fingerprint, 'fp-1');
  });

  withStore('the operations stamp changes with the committed operations only, and with each of concurrent commits', async (s) => {
    const stamp = async () => (await s.getReportStamps([])).operations;
    const empty = await stamp();
    const aborted = await s.beginUpdateOperation('debian');
    await aborted.add([vuln('CVE-1', 'openssl', 'bookworm')]);
    assert.equal(await stamp(), empty, 'an operation in progress is not part of it');
    await aborted.abort();
    assert.equal(await stamp(), empty, 'nor is an aborted one');
    // Two writers committing at once (on PostgreSQL each in its transaction; both bump the one stamp row).
    const [w1, w2] = [await s.beginUpdateOperation('debian'), await s.beginUpdateOperation('alpine')];
    await w1.add([vuln('CVE-2', 'curl', 'bookworm')]);
    const [op1, op2] = await Promise.all([w1.commit('fp-1'), w2.commit('fp-2')]);
    const both = await stamp();
    assert.notEqual(both, empty);
    assert.deepEqual((await s.listUpdateOperations()).map((o) => o.ref).sort(), [op1.ref, op2.ref].sort());
    assert.equal(await stamp(), both, 'reading it changes nothing');
    assert.deepEqual(await s.deleteUpdateOperations(['no-such-ref']), []);
    assert.equal(await stamp(), both, 'a delete of nothing changes nothing');
    await s.deleteUpdateOperations([op1.ref]);
    assert.notEqual(await stamp(), both);
  });

  withStore('aborted operations leave nothing behind', async (s) => {
    const w = await s.beginUpdateOperation('debian');
    await w.add([vuln('CVE-9', 'zlib', 'bookworm')]);
    await w.abort();
    assert.deepEqual(await s.listUpdateOperations(), []);
    const w2 = await s.beginUpdateOperation('debian');
    await w2.commit('empty');
    assert.deepEqual(await s.queryVulnerabilities([{ packageNames: ['zlib'] }]), [[]]);
  });

  withStore('queries see only the newest operation of each updater, constrained by release', async (s) => {
    const w1 = await s.beginUpdateOperation('debian');
    await w1.add([vuln('CVE-1', 'openssl', 'bookworm'), vuln('CVE-2', 'openssl', 'bullseye'), vuln('CVE-3', 'openssl', '')]);
    const op1 = await w1.commit('fp-1');
    const w2 = await s.beginUpdateOperation('debian');
    await w2.add([vuln('CVE-1', 'openssl', 'bookworm', '3.0.2'), vuln('CVE-2', 'openssl', 'bullseye'), vuln('CVE-4', 'openssl', 'bookworm')]);
    const op2 = await w2.commit('fp-2');
    const [bookworm, bullseye, any] = await s.queryVulnerabilities([
      { packageNames: ['openssl'], updaterPrefix: 'debian', dist: { did: 'debian', versionCodeName: 'bookworm' } },
      { packageNames: ['openssl'], updaterPrefix: 'debian', dist: { did: 'debian', versionCodeName: 'bullseye' } },
      { packageNames: ['openssl'], updaterPrefix: 'ubuntu' },
    ]);
    assert.deepEqual(bookworm!.map((v) => `${v.name}:${v.fixedInVersion}`).sort(), ['CVE-1:3.0.2', 'CVE-4:']);
    assert.deepEqual(bullseye!.map((v) => v.name), ['CVE-2']);
    assert.deepEqual(any, [], 'updater prefix constrains');
    const diff = await s.diffUpdateOperations(op1.ref, op2.ref);
    assert.deepEqual(diff.added.map((v) => `${v.name}:${v.fixedInVersion}`).sort(), ['CVE-1:3.0.2', 'CVE-4:']);
    assert.deepEqual(diff.removed.map((v) => `${v.name}:${v.fixedInVersion}`).sort(), ['CVE-1:', 'CVE-3:']);
    const first = await s.diffUpdateOperations(undefined, op1.ref);
    assert.equal(first.added.length, 3);
    // Deleting the newest makes the previous one current again.
    const stamp2 = (await s.getReportStamps([])).operations;
    assert.deepEqual(await s.deleteUpdateOperations([op2.ref, 'no-such-ref']), [op2.ref]);
    const stamp1 = (await s.getReportStamps([])).operations;
    assert.notEqual(stamp1, stamp2, 'a delete changes the operations stamp');
    // Deleting the newest and committing another leaves as many operations as before: the stamp still changes.
    const op3 = await (await s.beginUpdateOperation('debian')).commit('fp-3');
    assert.deepEqual(await s.deleteUpdateOperations([op3.ref]), [op3.ref]);
    await (await s.beginUpdateOperation('debian')).commit('fp-4');
    assert.notEqual((await s.getReportStamps([])).operations, stamp2, 'same count, another newest operation');
    await s.deleteUpdateOperations([(await s.listUpdateOperations())[0]!.ref]);
    const [again] = await s.queryVulnerabilities([{ packageNames: ['openssl'], dist: { versionCodeName: 'bookworm' } }]);
    assert.deepEqual(again!.map((v) => v.name).sort(), ['CVE-1', 'CVE-3']);
  });

  // The rule for which records a query admits, defined once (queryAdmits, which the notifier runs in memory) and
  // checked here on both stores: every combination of updater, distribution field and package name against every
  // kind of constraint.
  withStore('queries admit exactly what queryAdmits admits', async (s) => {
    const records: Vulnerability[] = [];
    const byOperation = new Map<string, Vulnerability[]>();
    for (const [op, updater] of [['debian', 'debian'], ['debian', 'debian/bookworm'], ['debianx', 'debianx'], ['ubuntu', 'ubuntu']] as const) {
      for (const did of ['debian', 'ubuntu', '']) {
        for (const versionId of ['12', '']) {
          for (const versionCodeName of ['bookworm', 'bullseye', '']) {
            for (const pkg of ['a', 'b']) {
              const v = newVulnerability({
                updater, name: `R-${records.length}`, package: { name: pkg, kind: 'source', module: '', arch: '' },
                dist: { did, versionId, versionCodeName, cpe: '', name: '', version: '', prettyName: '', arch: '' }, versionScheme: 'dpkg',
              });
              records.push(v);
              byOperation.set(op, [...(byOperation.get(op) ?? []), v]);
            }
          }
        }
      }
    }
    for (const [op, list] of byOperation) {
      const w = await s.beginUpdateOperation(op);
      await w.add(list);
      await w.commit(`fp-${op}`);
    }
    const queries: VulnerabilityQuery[] = [];
    for (const packageNames of [['a'], ['a', 'b'], ['c'], []]) {
      for (const updaterPrefix of [undefined, '', 'debian', 'debian/bookworm', 'debia', 'ubuntu']) {
        for (const dist of [undefined, {}, { did: 'debian' }, { did: 'debian', versionId: '12' }, { versionCodeName: 'bookworm' }, { did: '' }, { did: 'ubuntu', versionId: '12', versionCodeName: 'bullseye' }]) {
          queries.push({ packageNames, ...(updaterPrefix !== undefined ? { updaterPrefix } : {}), ...(dist !== undefined ? { dist } : {}) });
        }
      }
    }
    const answers = await s.queryVulnerabilities(queries);
    const names = (list: { name: string }[]) => list.map((v) => v.name).sort();
    let admitted = 0;
    queries.forEach((q, i) => {
      const want = names(records.filter((v) => queryAdmits(q, v)));
      admitted += want.length;
      assert.deepEqual(names(answers[i]!), want, `query ${JSON.stringify(q)}`);
    });
    assert.ok(admitted > 1000, `the cases admit only ${admitted} records in all`);
  });

  withStore('identical records are stored once and shared between operations', async (s) => {
    const records = Array.from({ length: 1200 }, (_, i) => vuln(`CVE-${i}`, `pkg${i % 50}`, 'bookworm'));
    const w1 = await s.beginUpdateOperation('debian');
    await w1.add(records.slice(0, 700));
    await w1.add(records.slice(700));
    await w1.add([records[0]!]); // a duplicate inside one operation counts once
    const op1 = await w1.commit('a');
    assert.equal(op1.count, 1200);
    const w2 = await s.beginUpdateOperation('debian');
    await w2.add(records);
    const op2 = await w2.commit('b');
    const diff = await s.diffUpdateOperations(op1.ref, op2.ref);
    assert.deepEqual([diff.added.length, diff.removed.length], [0, 0]);
  });

  withStore('carryOver copies the kept records of an earlier operation into a new one', async (s) => {
    const w1 = await s.beginUpdateOperation('debian');
    await w1.add([vuln('CVE-1', 'openssl', 'bookworm'), vuln('CVE-2', 'curl', 'bookworm'), vuln('CVE-3', 'zlib', 'bookworm')]);
    const op1 = await w1.commit('fp-1');
    const w2 = await s.beginUpdateOperation('debian');
    assert.equal(await w2.carryOver(op1.ref, (v) => v.name !== 'CVE-2'), 2);
    await w2.add([vuln('CVE-2', 'curl', 'bookworm', '8.0'), vuln('CVE-1', 'openssl', 'bookworm')]);
    const op2 = await w2.commit('fp-2');
    assert.equal(op2.count, 3, 'a carried record added again counts once');
    const [found] = await s.queryVulnerabilities([{ packageNames: ['openssl', 'curl', 'zlib'], updaterPrefix: 'debian' }]);
    assert.deepEqual(found!.map((v) => `${v.name}:${v.fixedInVersion}`).sort(), ['CVE-1:', 'CVE-2:8.0', 'CVE-3:']);
    const diff = await s.diffUpdateOperations(op1.ref, op2.ref);
    assert.deepEqual([diff.added.map((v) => v.name), diff.removed.map((v) => v.name)], [['CVE-2'], ['CVE-2']]);
    // The earlier operation is untouched, and deleting it keeps the records the new one carried.
    assert.equal((await s.getUpdateOperation(op1.ref))?.count, 3);
    await s.deleteUpdateOperations([op1.ref]);
    const [after] = await s.queryVulnerabilities([{ packageNames: ['openssl', 'zlib'] }]);
    assert.deepEqual(after!.map((v) => v.name).sort(), ['CVE-1', 'CVE-3']);
    const w3 = await s.beginUpdateOperation('debian');
    await assert.rejects(w3.carryOver(op1.ref, () => true), { code: 'not-found' });
    await w3.abort();
  });

  withStore('a diff of an unknown operation is a not-found error', async (s) => {
    await assert.rejects(s.diffUpdateOperations(undefined, '00000000-0000-0000-0000-000000000000'), { code: 'not-found' });
  });

  const note = (id: string, reason: 'added' | 'removed' = 'added') => ({
    id, manifest: 'sha256:' + '1'.repeat(64), reason, vulnerability: { name: `CVE-${id.slice(0, 4)}`, normalized_severity: 'High' },
  });
  const ref = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

  withStore('notifications: stored once per update operation, paged in id order, deleted', async (s) => {
    const nid = 'a0000000-0000-4000-8000-000000000001';
    const ids = ['30000000-0000-4000-8000-000000000000', '10000000-0000-4000-8000-000000000000', '20000000-0000-4000-8000-000000000000'];
    assert.equal(await s.putNotifications({ operationRef: ref(1), updater: 'debian', notificationId: nid, notifications: ids.map((i) => note(i)) }), true);
    assert.equal(
      await s.putNotifications({ operationRef: ref(1), updater: 'debian', notificationId: 'b0000000-0000-4000-8000-000000000001', notifications: [note(ids[0]!)] }),
      false, 'an operation is processed once',
    );
    assert.equal(await s.getNotificationReceipt({ notificationId: 'b0000000-0000-4000-8000-000000000001' }), undefined, 'the refused set left nothing');
    const receipt = await s.getNotificationReceipt({ operationRef: ref(1) });
    assert.deepEqual({ ...receipt, created: undefined }, { operationRef: ref(1), updater: 'debian', notificationId: nid, status: 'pending', attempts: 0, created: undefined });
    const walked: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await s.getNotificationPage(nid, 2, after);
      assert.ok(page);
      walked.push(...page.notifications.map((n) => n.id));
      if (!page.next) break;
      after = page.next;
    }
    assert.deepEqual(walked, [...ids].sort());
    assert.deepEqual((await s.getNotificationPage(nid, 10))!.notifications[0], note(ids[1]!), 'bodies round-trip');
    assert.equal((await s.getNotificationPage(nid, 3))!.next, undefined, 'an exact last page has no next');
    assert.equal(await s.getNotificationPage('c0000000-0000-4000-8000-000000000001', 10), undefined);
    // An operation that affected nothing is recorded without a set.
    assert.equal(await s.putNotifications({ operationRef: ref(2), updater: 'debian', notifications: [] }), true);
    assert.equal((await s.getNotificationReceipt({ operationRef: ref(2) }))?.status, 'none');
    assert.equal(await s.deleteNotificationSet(nid), true);
    assert.equal(await s.getNotificationPage(nid, 10), undefined, 'a deleted set is gone');
    assert.equal(await s.deleteNotificationSet(nid), true, 'deleting twice is fine');
    assert.equal(await s.deleteNotificationSet('c0000000-0000-4000-8000-000000000001'), false);
    assert.equal(await s.claimNotificationDelivery(60_000), undefined, 'a deleted set is not delivered');
  });

  withStore('notification delivery: claim, lease, retry, delivered', async (s) => {
    const [n1, n2] = ['a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000002'];
    await s.putNotifications({ operationRef: ref(1), updater: 'debian', notificationId: n1, notifications: [note(ref(11))] });
    await s.putNotifications({ operationRef: ref(2), updater: 'debian', notificationId: n2, notifications: [note(ref(12))] });
    const a = await s.claimNotificationDelivery(60_000);
    const b = await s.claimNotificationDelivery(60_000);
    assert.ok(a && b);
    assert.deepEqual([a.notificationId, b.notificationId].sort(), [n1, n2], 'two claims take two different sets');
    assert.equal(await s.claimNotificationDelivery(60_000), undefined, 'claimed sets are not claimed again while the lease lasts');
    await s.markNotificationDelivered(a.notificationId);
    await s.markNotificationDeliveryFailed(b.notificationId, 0);
    const again = await s.claimNotificationDelivery(60_000);
    assert.deepEqual(again, { notificationId: b.notificationId, attempts: 2 }, 'a failed set is due again, attempts counted');
    await s.markNotificationDeliveryFailed(b.notificationId, 3_600_000);
    assert.equal(await s.claimNotificationDelivery(60_000), undefined, 'not before its next attempt');
    assert.equal((await s.getNotificationReceipt({ notificationId: a.notificationId }))?.status, 'delivered');
    // A lease that ran out (the claimer died) lets another claimer take the set.
    const n3 = 'a0000000-0000-4000-8000-000000000003';
    await s.putNotifications({ operationRef: ref(3), updater: 'debian', notificationId: n3, notifications: [note(ref(13))] });
    assert.equal((await s.claimNotificationDelivery(1))?.notificationId, n3);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await s.claimNotificationDelivery(60_000), { notificationId: n3, attempts: 2 });
  });

  withStore('subscriptions: stored, listed, deleted with their pending shares', async (s) => {
    const sub = (id: string, name: string): Subscription => ({
      id, name, channel: { type: 'webhook', url: 'https://hooks.example/' + name }, minSeverity: 'High', kevOnly: true, manifests: ['sha256:' + 'a'.repeat(64)], created: new Date(Date.parse('2026-01-01T00:00:00Z') + Number(id.at(-1))).toISOString(),
    });
    const [s1, s2] = [sub('e0000000-0000-4000-8000-000000000001', 'one'), sub('e0000000-0000-4000-8000-000000000002', 'two')];
    await s.putSubscription(s1);
    await s.putSubscription(s2);
    assert.deepEqual(await s.listSubscriptions(), [s1, s2]);
    // Repository hints, recorded once per (manifest, repository).
    await s.putManifestRepository('sha256:m1', 'quay.io/org/app');
    await s.putManifestRepository('sha256:m1', 'quay.io/org/app');
    await s.putManifestRepository('sha256:m1', 'quay.io/org/mirror');
    assert.deepEqual(await s.manifestRepositories(['sha256:m1', 'sha256:m2']), new Map([['sha256:m1', ['quay.io/org/app', 'quay.io/org/mirror']]]));
    // A set is shared out once; each share has its own claim, lease and retry.
    const nid = 'a0000000-0000-4000-8000-000000000001';
    await s.putNotifications({ operationRef: ref(1), updater: 'debian', notificationId: nid, notifications: [note(ref(11)), note(ref(12))] });
    assert.deepEqual(await s.setsAwaitingFanOut(10), [nid]);
    assert.equal(await s.putSubscriptionDeliveries(nid, [{ subscriptionId: s1.id, ids: [ref(11)] }, { subscriptionId: s2.id, ids: [ref(11), ref(12)] }, { subscriptionId: 'e0000000-0000-4000-8000-00000000000f', ids: [ref(12)] }]), true);
    assert.equal(await s.putSubscriptionDeliveries(nid, [{ subscriptionId: s1.id, ids: [ref(12)] }]), false, 'a set is shared out once');
    assert.deepEqual(await s.setsAwaitingFanOut(10), []);
    assert.deepEqual(await s.subscriptionBacklog(), new Map([[s1.id, 1], [s2.id, 1]]));
    assert.equal(await s.notificationBacklog(), 1, 'the set itself is pending for the configured deliverers');
    const a = await s.claimSubscriptionDelivery(60_000);
    const b = await s.claimSubscriptionDelivery(60_000);
    assert.ok(a && b);
    assert.equal(await s.claimSubscriptionDelivery(60_000), undefined, 'claimed shares are not claimed again while the lease lasts');
    const bySub = new Map([a, b].map((x) => [x.subscriptionId, x]));
    assert.deepEqual(bySub.get(s1.id), { notificationId: nid, subscriptionId: s1.id, ids: [ref(11)], attempts: 1 });
    assert.deepEqual(bySub.get(s2.id)?.ids, [ref(11), ref(12)]);
    await s.markSubscriptionDelivered(nid, s1.id);
    await s.markSubscriptionDeliveryFailed(nid, s2.id, 0);
    assert.deepEqual(await s.claimSubscriptionDelivery(60_000), { notificationId: nid, subscriptionId: s2.id, ids: [ref(11), ref(12)], attempts: 2 });
    assert.deepEqual(await s.subscriptionBacklog(), new Map([[s2.id, 1]]));
    assert.equal(await s.deleteSubscription(s2.id), true);
    assert.equal(await s.deleteSubscription(s2.id), false);
    assert.deepEqual(await s.subscriptionBacklog(), new Map(), 'a deleted subscription has no backlog');
    assert.deepEqual((await s.listSubscriptions()).map((x) => x.id), [s1.id]);
    const sets = await s.listNotificationSets(10);
    assert.deepEqual(sets.map((x) => [x.notificationId, x.count, x.status]), [[nid, 2, 'pending']]);
  });

  withStore('enrichment records: stored as operations, looked up by CVE id in the newest operation only', async (s) => {
    const rec = (tag: string, score: number) => ({ updater: 'nvd', tag, enrichment: { baseScore: score, version: '3.1' } });
    const w1 = await s.beginUpdateOperation('nvd');
    await w1.addEnrichments([rec('CVE-2024-0001', 5), rec('CVE-2024-0002', 9.8)]);
    const op1 = await w1.commit('fp1');
    assert.equal(op1.count, 2);
    assert.deepEqual((await s.queryEnrichments('nvd', ['CVE-2024-0002', 'CVE-2099-0001'])).map((r) => r.enrichment['baseScore']), [9.8]);
    assert.deepEqual(await s.queryEnrichments('epss', ['CVE-2024-0002']), [], 'another updater has none');
    // Vulnerability lookups never see enrichment rows, and enrichment lookups never see vulnerabilities.
    const wv = await s.beginUpdateOperation('debian');
    await wv.add([vuln('CVE-2024-0002', 'openssl', 'bookworm')]);
    await wv.commit('fpv');
    assert.deepEqual((await s.queryVulnerabilities([{ packageNames: ['openssl'] }]))[0]!.map((v) => v.name), ['CVE-2024-0002']);
    assert.deepEqual(await s.queryEnrichments('debian', ['CVE-2024-0002']), []);
    // A newer operation replaces the data: the old score is no longer current.
    const w2 = await s.beginUpdateOperation('nvd');
    await w2.addEnrichments([rec('CVE-2024-0002', 7.5)]);
    await w2.commit('fp2');
    assert.deepEqual((await s.queryEnrichments('nvd', ['CVE-2024-0001', 'CVE-2024-0002'])).map((r) => [r.tag, r.enrichment['baseScore']]), [['CVE-2024-0002', 7.5]]);
    // Records of the wrong updater are refused, as for vulnerabilities.
    const w3 = await s.beginUpdateOperation('nvd');
    await assert.rejects(w3.addEnrichments([{ updater: 'kev', tag: 'CVE-2024-0003', enrichment: {} }]), /written to operation of nvd/);
    await w3.abort();
  });

  withStore('operations of small contexts (packages merged into few buckets) over random changes: diffs, exports and lookups are exact', async (s) => {
    let seed = 11;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const json = (list: Vulnerability[]) => list.map(({ id: _, ...v }: Vulnerability & { id?: string }) => JSON.stringify([v.name, v.package.name, v.dist.versionCodeName, v.fixedInVersion])).sort();
    const minus = (a: Vulnerability[], b: Vulnerability[]) => {
      const other = new Set(json(b));
      return [...new Set(json(a))].filter((x) => !other.has(x)).sort();
    };
    // ~300 records of 60 packages in two releases: each release a context of few buckets.
    let cur = Array.from({ length: 300 }, (_, i) => vuln(`CVE-${i}`, `pkg${rnd(60)}`, rnd(2) === 0 ? 'bookworm' : 'trixie'));
    let prevRef: string | undefined;
    let prev: Vulnerability[] = [];
    for (let round = 0; round < 6; round++) {
      const w = await s.beginUpdateOperation('debian');
      await w.add(cur);
      const op = await w.commit(`fp-${round}`);
      const d = await s.diffUpdateOperations(prevRef, op.ref);
      assert.deepEqual([json(d.added), json(d.removed)], [minus(cur, prev), minus(prev, cur)], `round ${round}`);
      const exported: Vulnerability[] = [];
      for await (const batch of s.readUpdateOperation(op.ref, 50)) exported.push(...batch.map((l) => JSON.parse(l) as Vulnerability));
      assert.deepEqual(json(exported), json(cur));
      const names = Array.from({ length: 8 }, () => `pkg${rnd(60)}`);
      const [found] = await s.queryVulnerabilities([{ packageNames: names, dist: { versionCodeName: 'trixie' } }]);
      assert.deepEqual(json(found!), json(cur.filter((v) => names.includes(v.package.name) && v.dist.versionCodeName === 'trixie')), `lookup, round ${round}`);
      // A package's records in the feed's order (ids follow it).
      for (const n of names) assert.deepEqual(found!.filter((v) => v.package.name === n).map((v) => v.name), cur.filter((v) => v.package.name === n && v.dist.versionCodeName === 'trixie').map((v) => v.name));
      // The next day: some records gone, some changed, some new, the rest in their order.
      prev = cur;
      prevRef = op.ref;
      cur = cur.filter(() => rnd(8) !== 0).map((v) => (rnd(10) === 0 ? { ...v, fixedInVersion: `1.${round}` } : v));
      for (let i = 0; i < 20; i++) cur.splice(rnd(cur.length + 1), 0, vuln(`CVE-${round}-${i}`, `pkg${rnd(70)}`, rnd(2) === 0 ? 'bookworm' : 'trixie'));
    }
  });

  withStore('update operations: read back whole, and written again under their own ref and date', async (s) => {
    const w = await s.beginUpdateOperation('debian');
    const records = Array.from({ length: 7 }, (_, i) => vuln(`CVE-2024-${1000 + i}`, 'bash', 'bookworm'));
    await w.add(records);
    const op = await w.commit('fp');
    const lines: string[] = [];
    for await (const batch of s.readUpdateOperation(op.ref, 3)) {
      assert.ok(batch.length <= 3);
      lines.push(...batch);
    }
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as Vulnerability).name).sort(), records.map((r) => r.name));
    await assert.rejects(async () => {
      for await (const _ of s.readUpdateOperation('00000000-0000-4000-8000-000000000099')) void _;
    }, /does not exist/);
    // Imported elsewhere under the same identity: same ref, same date, same records.
    const t = await open();
    try {
      const wi = await t.beginUpdateOperation('debian', { ref: op.ref, date: op.date });
      await wi.add(lines.map((l) => JSON.parse(l) as Vulnerability));
      const imported = await wi.commit(op.fingerprint);
      assert.deepEqual({ ...imported, date: new Date(imported.date).toISOString() }, { ...op, date: new Date(op.date).toISOString() });
    } finally {
      await t.close();
    }
    // The same ref twice is a conflict, and leaves nothing behind.
    await assert.rejects(async () => {
      const again = await s.beginUpdateOperation('debian', { ref: op.ref, date: op.date });
      await again.add(records.slice(0, 1));
      await again.commit('fp');
    }, /already exists/);
    assert.deepEqual((await s.listUpdateOperations('debian')).map((o) => o.ref), [op.ref]);
  });

  withStore('enrichment records in packs: every id found across pack boundaries, records of an id in feed order, exported whole', async (s) => {
    // 3,000 records in a shuffled order (many packs), ids with two records, one record given twice, and ids that sort
    // between, before and after the stored ones.
    const id = (i: number) => `CVE-${2000 + (i % 7)}-${String(i).padStart(5, '0')}`;
    const recs = Array.from({ length: 3000 }, (_, k) => {
      const i = (k * 7919) % 3000;
      return { updater: 'epss', tag: id(i), enrichment: { cve: id(i), epss: i / 3000, text: 'x'.repeat(i % 50) } };
    });
    const twice = [
      { updater: 'epss', tag: id(10), enrichment: { cve: id(10), second: true } },
      { updater: 'epss', tag: id(11), enrichment: { cve: id(11), epss: 11 / 3000, text: 'x'.repeat(11) } },
    ];
    const w = await s.beginUpdateOperation('epss');
    for (let i = 0; i < recs.length; i += 700) await w.addEnrichments(recs.slice(i, i + 700));
    await w.addEnrichments(twice);
    const op = await w.commit('fp');
    assert.equal(op.count, 3001, 'a record given twice is stored once');
    const wanted = [id(0), id(10), id(11), id(2999), id(1234), 'CVE-1999-0001', 'CVE-2003-00004', 'CVE-2999-0001', id(10)];
    const got = await s.queryEnrichments('epss', wanted);
    assert.deepEqual(
      got.map((r) => [r.tag, r.enrichment['epss'] ?? r.enrichment['second']]),
      [[id(0), 0], [id(10), 10 / 3000], [id(10), true], [id(11), 11 / 3000], [id(2999), 2999 / 3000], [id(1234), 1234 / 3000]],
    );
    for (let i = 0; i < 3000; i += 97) assert.deepEqual((await s.queryEnrichments('epss', [id(i)])).map((r) => r.enrichment['cve']), [id(i)], id(i));
    assert.deepEqual(await s.queryEnrichments('kev', [id(0)]), [], 'another updater sees none');
    // Exported: every record once, as the canonical JSON of the record.
    const lines: string[] = [];
    for await (const batch of s.readUpdateOperation(op.ref, 100)) {
      assert.ok(batch.length <= 100);
      lines.push(...batch);
    }
    assert.equal(lines.length, 3001);
    const byTag = new Map<string, string[]>();
    for (const r of [...recs, twice[0]!]) byTag.set(r.tag, [...(byTag.get(r.tag) ?? []), JSON.stringify({ updater: r.updater, tag: r.tag, enrichment: r.enrichment })]);
    assert.deepEqual(lines.sort(), [...byTag.values()].flat().sort());
    // An aborted writer leaves nothing; a newer operation replaces the data; deleting it brings the older back.
    const a = await s.beginUpdateOperation('epss');
    await a.addEnrichments([{ updater: 'epss', tag: id(0), enrichment: { aborted: true } }]);
    await a.abort();
    assert.equal((await s.queryEnrichments('epss', [id(0)])).length, 1);
    const w2 = await s.beginUpdateOperation('epss');
    await w2.addEnrichments([{ updater: 'epss', tag: id(5), enrichment: { newer: true } }]);
    const op2 = await w2.commit('fp2');
    assert.deepEqual(await s.queryEnrichments('epss', [id(0), id(5)]), [{ updater: 'epss', tag: id(5), enrichment: { newer: true } }]);
    assert.deepEqual(await s.deleteUpdateOperations([op2.ref]), [op2.ref]);
    assert.equal((await s.queryEnrichments('epss', [id(0), id(5)])).length, 2);
    assert.deepEqual(await s.deleteUpdateOperations([op.ref]), [op.ref]);
    assert.deepEqual(await s.queryEnrichments('epss', [id(0)]), []);
  });

  withStore('enrichment records of an updater and its sub-updater in one operation: each found under its own name only', async (s) => {
    const w = await s.beginUpdateOperation('nvd');
    await w.addEnrichments([
      { updater: 'nvd', tag: 'CVE-2024-0001', enrichment: { n: 1 } },
      { updater: 'nvd/sub', tag: 'CVE-2024-0002', enrichment: { n: 2 } },
      { updater: 'nvd', tag: 'CVE-2024-0003', enrichment: { n: 3 } },
    ]);
    assert.equal((await w.commit('fp')).count, 3);
    assert.deepEqual((await s.queryEnrichments('nvd', ['CVE-2024-0001', 'CVE-2024-0002', 'CVE-2024-0003'])).map((r) => r.enrichment['n']), [1, 3]);
  });
}

/**
 * The bound on the stored scan results' bytes (Store.putScanResult), on a store opened with maxScanResultBytes = 10:
 * a result larger than the bound is not stored, and the oldest results go first when the others would pass it.
 */
export async function scanResultBytesBound(s: Store): Promise<void> {
  const stamps = async (hash: string) => {
    const st = await s.getReportStamps([hash]);
    return { operations: st.operations, indexReport: st.indexReports[0]! };
  };
  const result = (text: string) => ({ meta: '{}', output: new TextEncoder().encode(text) });
  const hashes = [1, 2, 3].map((i) => 'sha256:' + String(i).repeat(64));
  for (const h of hashes) await s.putIndexReport(report(h, [['bash']]), 'state-1');
  assert.equal(await s.putScanResult(hashes[0]!, 'json', await stamps(hashes[0]!), 'code', result('eleven byte')), false, 'larger than the bound');
  for (const h of hashes) assert.equal(await s.putScanResult(h, 'json', await stamps(h), 'code', result('four')), true);
  assert.equal(await s.getScanResult(hashes[0]!, 'json'), undefined, '12 bytes > 10: the oldest went');
  for (const h of hashes.slice(1)) assert.ok(await s.getScanResult(h, 'json'), 'the newer ones stay');
}
