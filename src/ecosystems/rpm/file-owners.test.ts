import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { LayerScan } from '../../indexer/layer-scan.ts';
import { pythonScanner } from '../python/scanner.ts';
import { rpmPackageScanner } from './scanner.ts';

test("rpm file lists: a real Amazon Linux 2023 database names the rpms owning Python's metadata, nothing else kept", async (t) => {
  const dir = requireSharedData(t, 'fixtures', 'go-rpmdb', 'pkg', 'testdata', 'amazonlinux2023-plain');
  if (!dir) return;
  const scan = new LayerScan([rpmPackageScanner, pythonScanner], 'layer');
  const data = readFileSync(join(dir, 'rpmdb.sqlite'));
  scan.add({ path: 'var/lib/rpm/rpmdb.sqlite', data, mode: 0o644 }, scan.takers('var/lib/rpm/rpmdb.sqlite', data.length, 0o644));
  const r = await scan.finish();
  const owners = r.findings.flatMap((f) => f.fileOwners ?? []).flatMap((fo) => fo.owners.map((o) => [o.owner.name, o.owner.version, o.owner.packageDb, ...o.files]));
  assert.deepEqual(owners, [
    // The egg-info of python3-gpg is a single file; libcomps' is a folder with its PKG-INFO.
    ['python3-gpg', '1.15.1-6.amzn2023.0.3', 'var/lib/rpm/rpmdb.sqlite', 'usr/lib64/python3.9/site-packages/gpg-1.15.1-py3.9.egg-info'],
    ['python3-libcomps', '0.1.18-1.amzn2023.0.2', 'var/lib/rpm/rpmdb.sqlite', 'usr/lib64/python3.9/site-packages/libcomps-0.1.18-py3.9.egg-info', 'usr/lib64/python3.9/site-packages/libcomps-0.1.18-py3.9.egg-info/PKG-INFO'],
    ['python3-rpm', '4.16.1.3-12.amzn2023.0.6', 'var/lib/rpm/rpmdb.sqlite', 'usr/lib64/python3.9/site-packages/rpm-4.16.1.3-py3.9.egg-info'],
  ]);
  // The owner versions are the packages' own, so coalescing finds them installed.
  const pkgs = r.findings.flatMap((f) => f.packageDbs ?? []).flatMap((d) => d.packages);
  assert.ok(owners.every(([name, version]) => pkgs.some((p) => p.name === name && p.version === version)));
});
