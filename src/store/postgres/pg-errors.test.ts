import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { ClairError } from '../../model/errors.ts';
import { classifyPgError, pgErrorCode, retryTransient, type PgFailureKind } from './pg-errors.ts';
import { postgresSkipReason, postgresTestUrl } from '../../../test/support/postgres.ts';

function err(message: string, code?: string, cause?: unknown): Error {
  const e = new Error(message, cause === undefined ? undefined : { cause });
  if (code !== undefined) Object.assign(e, { code });
  return e;
}

const cases: [string, unknown, PgFailureKind, string][] = [
  ['socket reset', err('read ECONNRESET', 'ECONNRESET'), 'connection-lost', 'unavailable'],
  ['broken pipe', err('write EPIPE', 'EPIPE'), 'connection-lost', 'unavailable'],
  ['refused (server restarting)', err('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), 'busy', 'unavailable'],
  ['admin_shutdown', err('terminating connection due to administrator command', '57P01'), 'connection-lost', 'unavailable'],
  ['crash_shutdown', err('terminating connection because of crash of another server process', '57P02'), 'connection-lost', 'unavailable'],
  ['cannot_connect_now', err('the database system is starting up', '57P03'), 'busy', 'unavailable'],
  ['too_many_connections', err('sorry, too many clients already', '53300'), 'busy', 'unavailable'],
  ['connection_failure (08006)', err('connection failure', '08006'), 'connection-lost', 'unavailable'],
  ['protocol_violation (08P01)', err('protocol violation', '08P01'), 'connection-lost', 'unavailable'],
  ['serialization_failure', err('could not serialize access', '40001'), 'conflict', 'unavailable'],
  ['deadlock_detected', err('deadlock detected', '40P01'), 'conflict', 'unavailable'],
  ['pg: terminated unexpectedly', err('Connection terminated unexpectedly'), 'connection-lost', 'unavailable'],
  ['pg: client not queryable', err('Client has encountered a connection error and is not queryable'), 'connection-lost', 'unavailable'],
  ['pg-pool: connect timeout', err('timeout exceeded when trying to connect'), 'busy', 'unavailable'],
  ['pg-pool: wrapped socket error', err('Connection terminated due to connection timeout', undefined, err('x', 'ETIMEDOUT')), 'busy', 'unavailable'],
  ['wrapped reset without a code', err('query failed', undefined, err('read ECONNRESET', 'ECONNRESET')), 'connection-lost', 'unavailable'],
  ['syntax error', err('syntax error at or near "SELEC"', '42601'), 'permanent', 'internal'],
  ['unique_violation', err('duplicate key value', '23505'), 'permanent', 'conflict'],
  ['bad password', err('password authentication failed for user "x"', '28P01'), 'permanent', 'unauthorized'],
  ['no such database', err('database "nope" does not exist', '3D000'), 'permanent', 'bad-input'],
  ['query_canceled is not retried', err('canceling statement due to user request', '57014'), 'permanent', 'internal'],
  ['a plain Error', new Error('something else'), 'permanent', 'internal'],
  ['a string', 'boom', 'permanent', 'internal'],
  ['null', null, 'permanent', 'internal'],
];

for (const [name, e, kind, code] of cases) {
  test(`classifyPgError: ${name} → ${kind} (${code})`, () => {
    assert.equal(classifyPgError(e), kind);
    assert.equal(pgErrorCode(e), code);
  });
}

test('retryTransient retries transient failures with growing delays, then succeeds', async () => {
  const delays: number[] = [];
  let calls = 0;
  const out = await retryTransient('read of x', async (attempt) => {
    calls++;
    if (attempt < 3) throw err('deadlock detected', '40P01');
    return 'ok';
  }, { sleep: async (ms) => delays.push(ms), baseDelayMs: 100 });
  assert.equal(out, 'ok');
  assert.equal(calls, 3);
  assert.equal(delays.length, 2);
  assert.ok(delays[0]! >= 75 && delays[0]! <= 125 && delays[1]! >= 150 && delays[1]! <= 250, `delays ${delays}`);
});

test('retryTransient gives up after its attempts with an unavailable ClairError naming the call', async () => {
  let calls = 0;
  await assert.rejects(
    retryTransient('read of layer report sha256:ab', async () => {
      calls++;
      throw err('read ECONNRESET', 'ECONNRESET');
    }, { attempts: 4, sleep: async () => undefined }),
    (e: unknown) => e instanceof ClairError && e.code === 'unavailable' && /read of layer report sha256:ab failed after 4 attempts: read ECONNRESET/.test(e.message),
  );
  assert.equal(calls, 4);
});

test('retryTransient does not retry permanent failures, nor ClairErrors', async () => {
  for (const [thrown, code] of [[err('syntax error', '42601'), 'internal'], [new ClairError('not-found', 'x does not exist'), 'not-found']] as const) {
    let calls = 0;
    await assert.rejects(
      retryTransient('q', async () => {
        calls++;
        throw thrown;
      }, { sleep: async () => undefined }),
      (e: unknown) => e instanceof ClairError && e.code === code,
    );
    assert.equal(calls, 1);
  }
});

const skip = await postgresSkipReason();

test('classifyPgError on errors from a real server', { skip }, async () => {
  const a = new pg.Client({ connectionString: postgresTestUrl() });
  const b = new pg.Client({ connectionString: postgresTestUrl() });
  await a.connect();
  await b.connect();
  let aError: unknown;
  a.on('error', (e) => {
    aError = e;
  });
  try {
    const syntax = await a.query('SELEC 1').catch((e: unknown) => e);
    assert.equal(classifyPgError(syntax), 'permanent');
    const pid = (await a.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const sleeping = a.query('SELECT pg_sleep(30)').catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    await b.query('SELECT pg_terminate_backend($1)', [pid]);
    const killed = await sleeping;
    assert.equal(classifyPgError(killed), 'connection-lost', `got ${String(killed)}`);
    const after = await a.query('SELECT 1').catch((e: unknown) => e);
    assert.equal(classifyPgError(after), 'connection-lost', `got ${String(after)}`);
    assert.ok(aError === undefined || classifyPgError(aError) === 'connection-lost');
  } finally {
    await Promise.allSettled([a.end(), b.end()]);
  }
});
