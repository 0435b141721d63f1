import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLayer, layerTar, OciLayoutWriter } from '../../src/image/testdata/image-builder.ts';
import { scanFindings } from '../support/distro-images.ts';
import { runCli } from '../support/run-cli.ts';
import { requireSharedData } from '../support/shared-data.ts';

// Wolfi and Chainguard images against their real security.json (vunnel's excerpts in shared/data). There is no real
// Wolfi root in the shared data, so the images are small hand-made roots: os-release as wolfi-baselayout writes it
// and an apk database naming real Wolfi packages; a second layer upgrades one (apk upgrade rewrites the database).

const block = (name: string, version: string, origin = name) => `P:${name}\nV:${version}\nA:x86_64\no:${origin}\n`;
const db = (...blocks: string[]) => blocks.join('\n') + '\n';

async function image(dir: string, osRelease: string, base: string, upgraded: string): Promise<string> {
  const w = await new OciLayoutWriter(join(dir, 'image')).init();
  const l1 = buildLayer(await layerTar({ 'etc/os-release': osRelease, 'lib/apk/db/installed': base }), 'gzip');
  const l2 = buildLayer(await layerTar({ 'lib/apk/db/installed': upgraded }), 'gzip');
  const img = await w.addImage([l1, l2]);
  await w.writeIndex([{ descriptor: img.manifest, tag: 'test' }]);
  return `oci:${join(dir, 'image')}:test`;
}

const rows = (out: string) => scanFindings(out).map((r) => r.split(' | ').slice(0, 4).join(' ')).sort();

test('Wolfi image: scan against Wolfi\'s security.json; "0" entries never reported', async (t) => {
  const feed = requireSharedData(t, 'feeds/wolfi-chainguard/vunnel/wolfi/input/secdb/security.json');
  if (!feed) return;
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-wolfi-'));
  const dbPath = join(dir, 'clair.db');
  try {
    const osRelease = 'ID=wolfi\nNAME="Wolfi"\nPRETTY_NAME="Wolfi"\nVERSION_ID="20230201"\nHOME_URL="https://wolfi.dev"\n';
    const pkgs = [block('binutils', '2.39-r2'), block('coreutils', '9.1-r0'), block('libcrypto3', '3.0.7-r0', 'openssl'), block('zlib', '1.2.12-r3')];
    const ref = await image(dir, osRelease, db(block('busybox', '1.35.0-r2'), ...pkgs), db(block('busybox', '1.35.0-r3'), ...pkgs));
    const up = await runCli(dbPath, ['update', '--source', `wolfi=${feed}`]);
    assert.equal(up.code, 0, up.err);
    const scan = await runCli(dbPath, ['scan', ref, '--fail-on', 'unknown']);
    assert.equal(scan.code, 1, scan.err);
    assert.doesNotMatch(scan.err, /not checked/);
    // busybox was upgraded to the fixed 1.35.0-r3; binutils 2.39-r2 has r2's fix but not r3's; coreutils is "0".
    assert.deepEqual(rows(scan.out), ['CVE-2022-38128 binutils 2.39-r2 2.39-r3']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Chainguard image: matched against Chainguard\'s feed only', async (t) => {
  const feed = requireSharedData(t, 'feeds/wolfi-chainguard/vunnel/chainguard/input/secdb/security.json');
  const wolfiFeed = requireSharedData(t, 'feeds/wolfi-chainguard/vunnel/wolfi/input/secdb/security.json');
  if (!feed || !wolfiFeed) return;
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-chainguard-'));
  const dbPath = join(dir, 'clair.db');
  try {
    const osRelease = 'ID=chainguard\nNAME="Chainguard"\nPRETTY_NAME="Chainguard"\nVERSION_ID="20230214"\n';
    const ref = await image(dir, osRelease, db(block('glibc', '2.37-r0'), block('git', '2.39.1-r0')), db(block('glibc', '2.37-r0'), block('git', '2.39.1-r0')));
    assert.equal((await runCli(dbPath, ['update', '--source', `chainguard=${feed}`, '--source', `wolfi=${wolfiFeed}`])).code, 0);
    const scan = await runCli(dbPath, ['scan', ref]);
    assert.equal(scan.code, 0, scan.err);
    assert.doesNotMatch(scan.err, /not checked/);
    assert.deepEqual(rows(scan.out), [
      'CVE-2023-22490 git 2.39.1-r0 2.39.2-r0',
      'CVE-2023-23946 git 2.39.1-r0 2.39.2-r0',
      'CVE-2023-25139 glibc 2.37-r0 2.37-r1',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
