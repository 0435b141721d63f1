import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { alpineUpdater } from '../../src/ecosystems/alpine/updater.ts';
import { allMatchers, allScanners, allUpdaters } from '../../src/ecosystems/registry.ts';
import { processUpdateOperation } from '../../src/notifier/processor.ts';
import { runUpdater } from '../../src/updater/run-updater.ts';
import { apkTestImage } from '../support/distro-images.ts';
import { openTestPostgres } from '../support/postgres.ts';
import { requireSharedData } from '../support/shared-data.ts';
import { sha256Digest } from '../support/tar-layer.ts';
import { manifestFor, postJson, schemaChecker, startBlobServer, startTestService } from './serve-kit.ts';

// An Alpine image through the Clair v4 API, the notifier and both stores, with the real ecosystems and nothing
// special-cased: index over HTTP, two operations of the real secdb updater (the second adds musl's -r6 secfix),
// a notification for the manifest, and the vulnerability report.

const SECDB = join(import.meta.dirname, '../../src/ecosystems/alpine/testdata/secdb');

async function flow(t: TestContext, db: string | undefined): Promise<void> {
  const check = await schemaChecker(t);
  const rootfs = requireSharedData(t, 'fixtures/alpine/alpine-minirootfs-3.19.4-x86_64.tar.gz');
  if (!check || !rootfs) return;
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-alpine-api-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const image = await apkTestImage(dir, rootfs, { musl: '1.2.4_git20230717-r5', 'musl-utils': '1.2.4_git20230717-r5' }, ['ssl_client']);
  const blobs = await startBlobServer();
  t.after(() => blobs.close());
  for (const l of image.layers) blobs.put(l.digest, l.blob);
  const img = { manifestHash: sha256Digest(Buffer.from(image.layers.map((l) => l.digest).join('\n'))), layers: image.layers.map((l) => ({ digest: l.digest, bytes: l.blob })) };
  const s = await startTestService(t, 'indexer:\n  allow_private_addresses: true\nmatcher:\n  disable_updaters: true\nnotifier:\n  poll_interval: 1h\n', {
    ecosystems: { scanners: allScanners(), matchers: allMatchers(), updaters: allUpdaters() },
    ...(db ? { db } : {}),
  });

  const res = await s.call('/indexer/api/v1/index_report', postJson(manifestFor(img, blobs)));
  assert.equal(res.status, 201, await res.clone().text());
  const report = (await res.json()) as Record<string, any>;
  check('index_report', report);
  assert.equal(Object.keys(report.packages).length, 14);
  assert.deepEqual(Object.values(report.distributions as Record<string, any>).map((d) => [d.did, d.version_id]), [['alpine', '3.19.4']]);

  // Operation 1: the secdb without musl's -r6 secfix; operation 2: as published.
  const older = JSON.parse(readFileSync(join(SECDB, 'v3.19/main.json'), 'utf8'));
  for (const p of older.packages) if (p.pkg.name === 'musl') delete p.pkg.secfixes['1.2.4_git20230717-r6'];
  mkdirSync(join(dir, 'old/v3.19'), { recursive: true });
  writeFileSync(join(dir, 'old/v3.19/main.json'), JSON.stringify(older));
  const store = s.store!;
  const op1 = (await runUpdater(store, alpineUpdater, join(dir, 'old'))).operation!;
  assert.deepEqual(await processUpdateOperation(store, allMatchers(), op1), { kind: 'first-operation' });
  const op2 = (await runUpdater(store, alpineUpdater, SECDB)).operation!;
  const r = await s.notifier!.processOperation(op2);
  assert.equal(r?.kind, 'created');
  const page = await s.call(`/notifier/api/v1/notification/${r!.kind === 'created' ? r.notificationId : ''}`);
  assert.equal(page.status, 200);
  const body = (await page.json()) as { notifications: { manifest: string; reason: string; vulnerability: { name: string; fixed_in_version: string; package: { name: string } } }[] };
  assert.deepEqual(body.notifications.map((n) => [n.manifest, n.reason, n.vulnerability.package.name, n.vulnerability.fixed_in_version]), [
    [img.manifestHash, 'added', 'musl', '1.2.4_git20230717-r6'],
  ]);
  assert.match(body.notifications[0]!.vulnerability.name, /^CVE-2026-(40200|6042)$/);

  const vr = await s.call(`/matcher/api/v1/vulnerability_report/${img.manifestHash}`);
  assert.equal(vr.status, 200);
  const vrBody = (await vr.json()) as Record<string, any>;
  check('vulnerability_report', vrBody);
  const found = Object.entries(vrBody.package_vulnerabilities as Record<string, string[]>)
    .flatMap(([pid, ids]) => ids.map((id) => `${vrBody.vulnerabilities[id].name} ${vrBody.packages[pid].name} ${vrBody.vulnerabilities[id].fixed_in_version}`))
    .sort();
  assert.deepEqual(found, [
    'CVE-2024-58251 busybox 1.36.1-r21',
    'CVE-2024-58251 busybox-binsh 1.36.1-r21',
    'CVE-2025-46394 busybox 1.36.1-r21',
    'CVE-2025-46394 busybox-binsh 1.36.1-r21',
    'CVE-2026-40200 musl 1.2.4_git20230717-r6',
    'CVE-2026-40200 musl-utils 1.2.4_git20230717-r6',
    'CVE-2026-6042 musl 1.2.4_git20230717-r6',
    'CVE-2026-6042 musl-utils 1.2.4_git20230717-r6',
  ]);
}

test('Alpine image over the API on SQLite: index, two secdb operations, notification, vulnerability report', async (t) => {
  await flow(t, undefined);
});

test('Alpine image over the API on PostgreSQL', async (t) => {
  const pg = await openTestPostgres();
  if (!pg) return t.skip('PostgreSQL not reachable (set CLAIR_TS_POSTGRES_URL)');
  t.after(() => pg.drop());
  const u = new URL(pg.url);
  u.searchParams.set('options', `-c search_path=${pg.schema}`);
  await flow(t, u.toString());
});
