import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configReference } from './config-schema.ts';
import { parseDuration, formatDuration } from './duration.ts';
import { parseConfig } from './load-config.ts';

test('defaults work with an empty config', () => {
  const c = parseConfig('', 'empty.yaml');
  assert.equal(c.httpListenAddr, ':6060');
  assert.equal(c.introspectionAddr, ':8089');
  assert.equal(c.logLevel, 'info');
  assert.equal(c.indexer.layerScanConcurrency, 3);
  assert.equal(c.indexer.allowFileUris, false);
  assert.equal(c.indexer.allowPrivateAddresses, false);
  assert.equal(c.matcher.periodMs, 6 * 3600_000);
  assert.equal(c.matcher.disableUpdaters, false);
  assert.equal(c.updaters.sets, undefined);
  assert.deepEqual(c.auth, {});
  assert.equal(c.http.bodyLimit, 4 * 1024 * 1024);
  assert.equal(c.http.requestTimeoutMs, 300_000);
});

test('a Clair-shaped config is read', () => {
  const c = parseConfig(
    `
http_listen_addr: "127.0.0.1:7000"
log_level: debug-color
indexer:
  connstring: postgres://u@db/clair
  layer_scan_concurrency: 5
matcher:
  indexer_addr: http://indexer:6060
  period: 1h30m
  disable_updaters: true
updaters:
  sets: [debian]
  config:
    debian:
      url: /srv/feeds/debian.json
notifier:
  poll_interval: 1m
  webhook:
    target: http://hook/
    headers:
      X-Thing: [a, b]
auth:
  psk:
    key: c2VjcmV0
    iss: [quay, clairctl]
`,
    'clair.yaml',
  );
  assert.equal(c.httpListenAddr, '127.0.0.1:7000');
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.indexer.connstring, 'postgres://u@db/clair');
  assert.equal(c.indexer.layerScanConcurrency, 5);
  assert.equal(c.matcher.indexerAddr, 'http://indexer:6060');
  assert.equal(c.matcher.periodMs, 90 * 60_000);
  assert.equal(c.matcher.disableUpdaters, true);
  assert.deepEqual(c.updaters, { sets: ['debian'], locations: { debian: '/srv/feeds/debian.json' } });
  assert.deepEqual(Buffer.from(c.auth.psk!.key).toString(), 'secret');
  assert.deepEqual(c.auth.psk!.issuers, ['quay', 'clairctl']);
});

const badConfigs: { name: string; yaml: string; message: RegExp }[] = [
  { name: 'unknown top-level key', yaml: 'http_listen: ":1"', message: /unknown key http_listen\b/ },
  { name: 'unknown nested key', yaml: 'matcher:\n  perod: 5m', message: /unknown key matcher\.perod/ },
  { name: 'several unknown keys', yaml: 'indexer:\n  a: 1\n  b: 2', message: /unknown keys indexer\.a, indexer\.b/ },
  { name: 'string for an integer', yaml: 'indexer:\n  layer_scan_concurrency: many', message: /indexer\.layer_scan_concurrency must be an integer, got the string "many"/ },
  { name: 'integer below minimum', yaml: 'indexer:\n  layer_scan_concurrency: 0', message: /at least 1/ },
  { name: 'number for a string', yaml: 'http_listen_addr: 6060', message: /http_listen_addr must be a string, got number 6060/ },
  { name: 'string for a bool', yaml: 'matcher:\n  disable_updaters: "yes"', message: /matcher\.disable_updaters must be true or false/ },
  { name: 'bad duration', yaml: 'matcher:\n  period: 30', message: /matcher\.period must be a duration/ },
  { name: 'bad duration text', yaml: 'matcher:\n  period: "soon"', message: /matcher\.period: "soon" is not a duration/ },
  { name: 'zero period', yaml: 'matcher:\n  period: 0s', message: /matcher\.period must be longer than 0s/ },
  { name: 'bad log level', yaml: 'log_level: loud', message: /log_level must be one of/ },
  { name: 'list of numbers', yaml: 'updaters:\n  sets: [1, 2]', message: /updaters\.sets must be a list of strings/ },
  { name: 'mapping for a section', yaml: 'indexer: 5', message: /indexer must be a mapping/ },
  { name: 'psk without key', yaml: 'auth:\n  psk:\n    iss: [a]', message: /auth\.psk\.key is required/ },
  { name: 'psk key not base64', yaml: 'auth:\n  psk:\n    key: "not base64!"', message: /auth\.psk\.key must be a base64 string/ },
  { name: 'unknown key in updater config', yaml: 'updaters:\n  config:\n    debian:\n      uri: x', message: /unknown key updaters\.config\.debian\.uri/ },
  { name: 'not YAML', yaml: 'a: [1, 2', message: /is not valid YAML/ },
  { name: 'top level list', yaml: '- a', message: /top level must be a mapping/ },
  { name: 'both updater sections', yaml: 'updaters:\n  sets: [a]\nmatcher:\n  updaters:\n    sets: [b]', message: /both set/ },
];

for (const c of badConfigs) {
  test(`config error: ${c.name}`, () => {
    assert.throws(() => parseConfig(c.yaml, 'bad.yaml'), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'bad-input');
      assert.match(e.message, /bad\.yaml/);
      assert.match(e.message, c.message);
      return true;
    });
  });
}

test('environment overrides the file', () => {
  const c = parseConfig('http_listen_addr: ":1"\nindexer:\n  layer_scan_concurrency: 2\n', 'f.yaml', {
    CLAIR_TS_HTTP_LISTEN_ADDR: '127.0.0.1:9',
    CLAIR_TS_INDEXER_LAYER_SCAN_CONCURRENCY: '7',
    CLAIR_TS_INDEXER_ALLOW_PRIVATE_ADDRESSES: 'true',
    CLAIR_TS_MATCHER_PERIOD: '10m',
    CLAIR_TS_UPDATERS_SETS: 'debian, ubuntu',
    CLAIR_TS_UPDATERS_CONFIG_DEBIAN_URL: 'file:///feeds/debian.json',
    CLAIR_TS_AUTH_PSK_KEY: Buffer.from('k').toString('base64'),
    CLAIR_TS_AUTH_PSK_ISS: 'a,b',
    CLAIR_TS_HTTP_BODY_LIMIT: '2048',
  });
  assert.equal(c.httpListenAddr, '127.0.0.1:9');
  assert.equal(c.indexer.layerScanConcurrency, 7);
  assert.equal(c.indexer.allowPrivateAddresses, true);
  assert.equal(c.matcher.periodMs, 600_000);
  assert.deepEqual(c.updaters.sets, ['debian', 'ubuntu']);
  assert.equal(c.updaters.locations.debian, 'file:///feeds/debian.json');
  assert.deepEqual(c.auth.psk?.issuers, ['a', 'b']);
  assert.equal(c.http.bodyLimit, 2048);
});

test('a bad environment value names the variable and the key', () => {
  assert.throws(() => parseConfig('', 'f.yaml', { CLAIR_TS_INDEXER_LAYER_SCAN_CONCURRENCY: 'lots' }), /environment CLAIR_TS_INDEXER_LAYER_SCAN_CONCURRENCY: indexer\.layer_scan_concurrency must be an integer/);
  assert.throws(() => parseConfig('', 'f.yaml', { CLAIR_TS_MATCHER_DISABLE_UPDATERS: 'maybe' }), /CLAIR_TS_MATCHER_DISABLE_UPDATERS: matcher\.disable_updaters must be true or false/);
});

test('every config key has a distinct environment variable', () => {
  const rows = configReference();
  assert.ok(rows.length > 20);
  const envs = rows.map((r) => r.env);
  assert.equal(new Set(envs).size, envs.length, `duplicate env names: ${envs.filter((e, i) => envs.indexOf(e) !== i).join(', ')}`);
  assert.ok(rows.some((r) => r.key === 'auth.psk.key' && r.env === 'CLAIR_TS_AUTH_PSK_KEY'));
});

const durations: [string, number][] = [['30m', 1_800_000], ['6h', 21_600_000], ['1h30m', 5_400_000], ['90s', 90_000], ['250ms', 250], ['1.5h', 5_400_000]];
for (const [text, ms] of durations) {
  test(`duration ${text}`, () => {
    assert.equal(parseDuration(text, 'k'), ms);
    assert.equal(parseDuration(formatDuration(ms), 'k'), ms);
  });
}
