import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { OS_RELEASE, type TestImage } from '../http/serve-kit.ts';
import { makeTar, sha256Digest } from '../support/tar-layer.ts';
import { runUpdater } from '../../src/updater/run-updater.ts';
import { testFeedUpdater } from '../http/serve-kit.ts';
import type { Store } from '../../src/store/store.ts';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { openTestPostgres } from '../support/postgres.ts';
import type { UpdateOperation } from '../../src/model/update-operation.ts';

// Pieces the notifier tests share: one-layer Debian images from hand-written dpkg status entries, feed files of the
// test feed format (serve-kit.ts), and a webhook receiver that answers from a script.

export const silentLog = pino({ level: process.env.CLAIR_TS_TEST_LOG ?? 'silent' });

/** A one-layer bookworm image holding these packages: [binary name, version, source name?]. */
export async function imageWith(packages: [string, string, string?][], salt: string): Promise<TestImage> {
  const status = packages
    .map(([name, version, source]) => `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\n${source ? `Source: ${source}\n` : ''}Version: ${version}\n\n`)
    .join('');
  const bytes = await makeTar([
    { path: 'etc/os-release', content: OS_RELEASE },
    { path: 'var/lib/dpkg/status', content: status },
    { path: 'etc/salt', content: salt },
  ]);
  const digest = sha256Digest(bytes);
  return { manifestHash: sha256Digest(Buffer.from(`manifest of ${digest}`)), layers: [{ digest, bytes }] };
}

export interface FeedRecord {
  name: string;
  package: string;
  release: string;
  fixed: string;
  severity: 'Unknown' | 'Negligible' | 'Low' | 'Medium' | 'High' | 'Critical';
}

/** Runs the test feed updater on these records: one new update operation. */
export async function updateWith(store: Store, records: FeedRecord[]): Promise<UpdateOperation> {
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-notifier-feed-'));
  const file = join(dir, 'feed.json');
  await writeFile(file, JSON.stringify(records));
  const r = await runUpdater(store, testFeedUpdater, file);
  if (!r.operation) throw new Error('the feed produced no new operation');
  return r.operation;
}

export interface Receiver {
  url: string;
  /** Bodies received, parsed, with the status answered. */
  received: { body: Record<string, unknown>; status: number; headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}

/** An HTTP receiver whose n-th request (0-based) is answered with statuses[n] (200 after the list ends). */
export async function startReceiver(statuses: number[] = []): Promise<Receiver> {
  const received: Receiver['received'] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = statuses[received.length] ?? 200;
      received.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>, status, headers: req.headers });
      res.writeHead(status).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`,
    received,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Two store handles on one fresh PostgreSQL schema, as two notifier processes would have; closed and dropped after. */
export async function twoPostgresStores(t: TestContext): Promise<[PostgresStore, PostgresStore]> {
  const pgt = await openTestPostgres();
  assert.ok(pgt, 'PostgreSQL became unreachable during the run');
  const open = () => PostgresStore.open(pgt.url, { schema: pgt.schema, applicationName: pgt.schema, maxConnections: 4, maxLockConnections: 2 });
  const a = await open();
  const b = await open();
  t.after(async () => {
    await Promise.all([a.close(), b.close()]);
    await pgt.drop();
  });
  return [a, b];
}
