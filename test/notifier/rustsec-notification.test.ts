import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { runCli } from '../support/run-cli.ts';
import { requireSharedData } from '../support/shared-data.ts';

// Language advisories notify as OS feeds do: a RustSec advisory published after a tree was indexed (here: the
// advisory-db folder gains RUSTSEC-2020-0071, time 0.1.x) creates a notification for that manifest, naming the
// advisory, at the next `clair-ts update`.

test('a new RustSec advisory that hits an indexed manifest creates a notification for it', async (t) => {
  const rustsec = requireSharedData(t, 'feeds', 'osv', 'rustsec');
  if (!rustsec) return;
  const dir = mkdtempSync(join(tmpdir(), 'rustsec-notify-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'clair.db');
  const feed = join(dir, 'advisory-db');
  // Yesterday's database: a few real advisories, none about the crates below.
  for (const crate of ['abi_stable', 'tokio-rustls', 'libpulse-binding']) cpSync(join(rustsec, 'crates', crate), join(feed, 'crates', crate), { recursive: true });
  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'Cargo.lock'), 'version = 3\n\n[[package]]\nname = "time"\nversion = "0.1.45"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\n\n[[package]]\nname = "serde"\nversion = "1.0.200"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\n');

  assert.equal((await runCli(db, ['update', '--source', `rustsec=${feed}`])).code, 0);
  const indexed = await runCli(db, ['index', '--format', 'json', `dir:${app}`]);
  assert.equal(indexed.code, 0, indexed.err);
  const manifest = JSON.parse(indexed.out).manifest_hash as string;
  assert.match((await runCli(db, ['scan', `dir:${app}`])).out, /No known vulnerabilities/);

  // Today's database adds the advisory for time.
  cpSync(join(rustsec, 'crates', 'time'), join(feed, 'crates', 'time'), { recursive: true });
  const up = await runCli(db, ['update', '--source', `rustsec=${feed}`]);
  assert.equal(up.code, 0, up.err);
  const m = /rustsec: notification ([0-9a-f-]{36}) with (\d+) notifications/.exec(up.out);
  assert.ok(m, up.out);
  const store = SqliteStore.open(db);
  t.after(() => store.close());
  const page = (await store.getNotificationPage(m[1]!, 100))!;
  const added = page.notifications.filter((n) => n.reason === 'added');
  assert.ok(added.length >= 1);
  assert.ok(added.every((n) => n.manifest === manifest));
  assert.ok(added.some((n) => n.vulnerability.name === 'RUSTSEC-2020-0071'), JSON.stringify(added.map((n) => n.vulnerability.name)));
  assert.match((await runCli(db, ['scan', `dir:${app}`])).out, /RUSTSEC-2020-0071/);
});
