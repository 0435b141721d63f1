import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../src/config/load-config.ts';
import { parseMode } from '../../src/cli/serve-command.ts';

// The example deployment in docs/deploy/ stays valid: its configs load (with the secrets the units put in the
// environment), each unit and compose service starts a mode that exists with a config that exists, and each mode
// has the store and addresses it needs. (The compose file cannot be run here: no Docker.)

const root = resolve(import.meta.dirname, '../..');
const deploy = join(root, 'docs/deploy');
const env = { CLAIR_TS_AUTH_PSK_KEY: Buffer.from('example key').toString('base64') };

const configs = [
  { file: 'indexer.yaml', mode: 'indexer', check: (c: ReturnType<typeof parseConfig>) => assert.match(c.indexer.connstring ?? '', /^postgres:\/\//) },
  {
    file: 'matcher.yaml',
    mode: 'matcher',
    check: (c: ReturnType<typeof parseConfig>) => {
      assert.match(c.matcher.connstring ?? '', /^postgres:\/\//);
      assert.ok(c.matcher.indexerAddr, 'matcher mode needs indexer_addr');
      assert.equal(c.matcher.disableUpdaters, false, 'the matchers run the updaters');
    },
  },
];

for (const c of configs) {
  test(`docs/deploy/${c.file} is a valid ${c.mode} config`, () => {
    const config = parseConfig(readFileSync(join(deploy, c.file), 'utf8'), c.file, env);
    c.check(config);
    assert.ok(config.auth.psk, 'the PSK comes from the environment');
    assert.throws(() => parseConfig(readFileSync(join(deploy, c.file), 'utf8'), c.file, {}), /auth\.psk\.key is required/, 'and without it start-up says so');
  });
}

test('docs/deploy systemd units start an existing mode with its config', () => {
  for (const mode of ['indexer', 'matcher']) {
    const unit = readFileSync(join(deploy, `clair-ts-${mode}.service`), 'utf8');
    const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1];
    assert.ok(exec, `clair-ts-${mode}.service has ExecStart`);
    assert.match(exec, new RegExp(`src/cli/main\\.ts serve --config /etc/clair-ts/${mode}\\.yaml --mode ${mode}$`));
    assert.equal(parseMode(mode, 'unit'), mode);
    assert.match(unit, /^EnvironmentFile=\/etc\/clair-ts\/secrets\.env$/m);
    assert.match(unit, /^\[Install\]$/m);
  }
  const secrets = readFileSync(join(deploy, 'secrets.env.example'), 'utf8');
  for (const k of ['PGPASSWORD', 'CLAIR_TS_AUTH_PSK_KEY']) assert.match(secrets, new RegExp(`^${k}=`, 'm'));
});

test('docs/deploy/compose.yaml runs the modes with configs that exist', () => {
  const compose = parseYaml(readFileSync(join(deploy, 'compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, { command?: string[]; image?: string }> };
  assert.match(compose.services.postgres?.image ?? '', /^postgres:15/);
  for (const name of ['indexer', 'matcher']) {
    const cmd = compose.services[name]?.command ?? [];
    const at = (flag: string) => cmd[cmd.indexOf(flag) + 1] ?? '';
    assert.equal(at('--mode'), name);
    assert.ok(existsSync(join(root, at('--config'))), `${name}: ${at('--config')} exists`);
    assert.match(at('--db'), /^postgres:\/\/[^:@]+@postgres:5432\//, 'no password in the connstring');
  }
});
