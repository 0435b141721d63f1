import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadEcosystemOptions, REPO2CPE_ENV } from './ecosystem-options.ts';
import { parseConfig } from './load-config.ts';

const MAPPING = join(import.meta.dirname, '../ecosystems/rhel/testdata/repository-to-cpe.json');

test('the repository-to-CPE mapping from the config key, the environment variable winning over it', () => {
  assert.deepEqual(loadEcosystemOptions({}, {}), {});
  const config = parseConfig(`indexer:\n  scanner:\n    repo:\n      rhel-repository-scanner:\n        repo2cpe_mapping_file: ${MAPPING}\n`, 'f.yaml');
  assert.equal(config.indexer.rhelRepositoryCpeMappingFile, MAPPING);
  const fromKey = loadEcosystemOptions(config.indexer, {}).rhel?.repositoryCpeMapping;
  assert.ok(fromKey && fromKey.cpes.size > 0);

  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-repo2cpe-'));
  const other = join(dir, 'other.json');
  writeFileSync(other, JSON.stringify({ data: { 'my-repo': { cpes: ['cpe:/o:redhat:enterprise_linux:9::baseos'] } } }));
  const fromEnv = loadEcosystemOptions(config.indexer, { [REPO2CPE_ENV]: other }).rhel?.repositoryCpeMapping;
  assert.deepEqual([...(fromEnv?.cpes.keys() ?? [])], ['my-repo']);
  assert.notEqual(fromEnv?.digest, fromKey.digest);
});

test('an unreadable or malformed mapping names the key or variable that named it', () => {
  const missing = join(tmpdir(), 'clair-ts-no-such-mapping.json');
  assert.throws(() => loadEcosystemOptions({ rhelRepositoryCpeMappingFile: missing }, {}), /indexer\.scanner\.repo\.rhel-repository-scanner\.repo2cpe_mapping_file .* cannot be read: ENOENT/);
  assert.throws(() => loadEcosystemOptions({}, { [REPO2CPE_ENV]: missing }), /CLAIR_TS_RHEL_REPO2CPE=.* cannot be read: ENOENT/);
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-repo2cpe-'));
  writeFileSync(join(dir, 'bad.json'), '{"data": ');
  assert.throws(() => loadEcosystemOptions({}, { [REPO2CPE_ENV]: join(dir, 'bad.json') }), /is not JSON/);
});
