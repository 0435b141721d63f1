import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sbomIndexReport } from './sbom-input.ts';

// Shapes as Trivy and Syft write them (their property names and purl forms), reduced to the fields read.

test('Trivy CycloneDX: the OS component, purls with upstream, the layer from aquasecurity:trivy:LayerDiffID', () => {
  const r = sbomIndexReport(JSON.stringify({
    bomFormat: 'CycloneDX', specVersion: '1.5',
    metadata: { component: { type: 'container', name: 'debian:12' } },
    components: [
      { type: 'operating-system', name: 'debian', version: '12.4', 'bom-ref': 'os' },
      {
        type: 'library', name: 'libssl3', version: '3.0.11-1~deb12u2', purl: 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.4',
        properties: [
          { name: 'aquasecurity:trivy:LayerDiffID', value: 'sha256:aa' }, { name: 'aquasecurity:trivy:SrcName', value: 'openssl' },
          { name: 'aquasecurity:trivy:SrcVersion', value: '3.0.11-1~deb12u2' },
        ],
      },
      { type: 'library', name: 'jinja2', version: '3.1.2', purl: 'pkg:pypi/jinja2@3.1.2', properties: [{ name: 'aquasecurity:trivy:LayerDiffID', value: 'sha256:bb' }] },
      { type: 'library', name: 'x', purl: 'pkg:generic/x@1' },
    ],
  }), 't.json');
  const pkgs = Object.entries(r.packages).map(([id, p]) => [p.name, p.version, r.environments[id]![0]!.introducedIn, r.environments[id]![0]!.packageDb]);
  assert.deepEqual(pkgs, [['libssl3', '3.0.11-1~deb12u2', 'sha256:aa', 'var/lib/dpkg/status'], ['jinja2', '3.1.2', 'sha256:bb', 'python:sbom']]);
  assert.deepEqual(r.layers, ['sha256:aa', 'sha256:bb']);
  assert.deepEqual(Object.values(r.packages)[0]!.source, { name: 'openssl', version: '3.0.11-1~deb12u2' }, 'Trivy names the source in properties');
  const [dist] = Object.values(r.distributions);
  assert.deepEqual([dist!.did, dist!.versionId], ['debian', '12.4']);
  assert.deepEqual(Object.values(r.repositories).map((x) => x.name), ['pypi']);
  assert.match(r.manifestHash, /^sha256:[0-9a-f]{64}$/, 'no image digest in the SBOM: the file digest names it');
});

test('Syft SPDX: no OS package; the distribution from the purl distro qualifier', () => {
  const r = sbomIndexReport(JSON.stringify({
    spdxVersion: 'SPDX-2.3',
    packages: [
      { SPDXID: 'SPDXRef-1', name: 'curl', versionInfo: '7.88.1-10+deb12u5', externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12' }] },
      { SPDXID: 'SPDXRef-2', name: 'bash', versionInfo: '5.2.15-2+b2', externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&upstream=bash%405.2.15-2&distro=debian-12' }] },
    ],
  }), 's.json');
  const [curl, bash] = Object.values(r.packages);
  assert.equal(curl!.version, '7.88.1-10+deb12u5');
  assert.deepEqual(bash!.source, { name: 'bash', version: '5.2.15-2' }, 'the binNMU keeps its source version');
  assert.deepEqual(Object.values(r.distributions).map((d) => [d.did, d.versionId]), [['debian', '12']]);
});

test('bad SBOMs are refused with the file named', () => {
  assert.throws(() => sbomIndexReport('{', 'a.json'), /sbom:a\.json: not JSON/);
  assert.throws(() => sbomIndexReport('{"hello":1}', 'b.json'), /sbom:b\.json: neither CycloneDX JSON/);
  const r = sbomIndexReport(JSON.stringify({ bomFormat: 'CycloneDX', components: [{ type: 'library', name: 'x', purl: 'pkg:' }] }), 'c.json');
  assert.match(r.err, /skipped 1 components with a bad purl/);
});
