import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../support/free-port.ts';

// `clair-ts serve` as a process: starts with a config file and a database path, becomes ready, stops cleanly
// on SIGTERM with exit code 0; a bad config is a startup error naming the key.

const root = resolve(import.meta.dirname, '../..');
const node = process.execPath;
const entry = [join(root, 'src/cli/main.ts'), 'serve'];


function collect(child: ChildProcess): () => string {
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  return () => out;
}

const mode = 'combo';

test('serve (combo mode) becomes ready and exits 0 on SIGTERM', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-serve-'));
  const [api, intro] = [await freePort(), await freePort()];
  const config = join(dir, 'config.yaml');
  await writeFile(config, `http_listen_addr: "127.0.0.1:${api}"\nintrospection_addr: "127.0.0.1:${intro}"\nmatcher:\n  disable_updaters: true\n`);
  const db = join(dir, 'data', 'clair-ts.db');
  const child = spawn(node, [...entry, '--config', config, '--db', db, '--mode', mode], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CLAIR_TS_DB: '' } });
  const output = collect(child);
  const exited = once(child, 'exit');
  try {
    const deadline = Date.now() + 20_000;
    let ready = false;
    while (!ready && Date.now() < deadline && child.exitCode === null) {
      ready = await fetch(`http://127.0.0.1:${intro}/readyz`).then((r) => r.ok, () => false);
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(ready, `never became ready:\n${output()}`);
    const probe = '/indexer/api/v1/index_state';
    assert.equal((await fetch(`http://127.0.0.1:${api}${probe}`)).status, 200);
    assert.ok(existsSync(db), 'the store file is where --db says');
    child.kill('SIGTERM');
    const [code, signal] = (await exited) as [number | null, string | null];
    assert.equal(signal, null, output());
    assert.equal(code, 0, output());
    assert.match(output(), /"msg":"stopped"/);
    await assert.rejects(fetch(`http://127.0.0.1:${api}${probe}`), 'the port is closed');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('serve refuses a bad config, naming the key', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-serve-bad-'));
  const config = join(dir, 'config.yaml');
  await writeFile(config, 'matcher:\n  perid: 5m\n');
  const child = spawn(node, [...entry, '--config', config, '--mode', 'notifier'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collect(child);
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 2);
  assert.match(output(), /unknown key matcher\.perid/);
});
