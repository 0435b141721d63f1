import { setTimeout as sleep } from 'node:timers/promises';
import { ClairError, type ErrorCode } from '../../model/errors.ts';

// Which PostgreSQL failures are worth another attempt, and the retry loop for the calls where another attempt is
// safe (idempotent reads, single-statement writes, whole transactions that never reached COMMIT). A failure inside a
// writer's long transaction is never retried here: the transaction is gone with its connection, so the writer fails.

export type PgFailureKind =
  /** The session is gone (reset, server shutdown, network): nothing of an open transaction survives. */
  | 'connection-lost'
  /** The statement lost a race (serialization failure, deadlock): the session is fine, the transaction is aborted. */
  | 'conflict'
  /** The server cannot take the connection right now (starting up, too many connections, connect timeout). */
  | 'busy'
  /** Anything else: a bug, a constraint, bad credentials, a missing database. Retrying would fail the same way. */
  | 'permanent';

const NODE_CONNECTION_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN', 'ECONNABORTED', 'EAI_AGAIN']);
// pg's own errors for a dead socket carry no code, only these messages (pg/lib/client.js, pg-pool/index.js).
const PG_MESSAGES: readonly [string, PgFailureKind][] = [
  ['Connection terminated unexpectedly', 'connection-lost'],
  ['Client has encountered a connection error and is not queryable', 'connection-lost'],
  ['Connection terminated due to connection timeout', 'busy'],
  ['timeout exceeded when trying to connect', 'busy'],
  ['timeout expired', 'busy'], // connectionTimeoutMillis of a single client
];

function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** Classifies an error thrown by pg (a server DatabaseError with a SQLSTATE, a Node socket error, or pg's own). */
export function classifyPgError(e: unknown): PgFailureKind {
  const code = errorCode(e);
  if (NODE_CONNECTION_CODES.has(code)) return code === 'ECONNREFUSED' || code === 'EAI_AGAIN' ? 'busy' : 'connection-lost';
  if (code.startsWith('08')) return 'connection-lost'; // connection_exception class
  if (code === '57P01' || code === '57P02') return 'connection-lost'; // admin_shutdown, crash_shutdown
  if (code === '57P03' || code === '53300') return 'busy'; // cannot_connect_now, too_many_connections
  if (code === '40001' || code === '40P01') return 'conflict'; // serialization_failure, deadlock_detected
  if (code === '' && e instanceof Error) {
    const known = PG_MESSAGES.find(([m]) => e.message.startsWith(m));
    if (known) return known[1];
  }
  // A failed connect wrapped by pg-pool keeps the socket error as its cause.
  if (code === '' && e instanceof Error && e.cause !== undefined && e.cause !== e) {
    const inner = classifyPgError(e.cause);
    if (inner !== 'permanent') return inner;
  }
  return 'permanent';
}

export function isTransientPgError(e: unknown): boolean {
  return classifyPgError(e) !== 'permanent';
}

/** The ClairError code for a failure that is surfaced to the caller. */
export function pgErrorCode(e: unknown): ErrorCode {
  if (isTransientPgError(e)) return 'unavailable';
  const code = errorCode(e);
  if (code.startsWith('28')) return 'unauthorized'; // invalid_authorization_specification, invalid_password
  if (code === '3D000' || code === '3F000') return 'bad-input'; // database or schema does not exist
  if (code === '23505' || code === '23503') return 'conflict';
  return 'internal';
}

/** "message (SQLSTATE 40P01)", or the socket error code, for error messages. */
export function describePgError(e: unknown): string {
  const code = errorCode(e);
  const msg = e instanceof Error ? e.message : String(e);
  return code ? `${msg} (${/^[0-9A-Z]{5}$/.test(code) ? 'SQLSTATE ' : ''}${code})` : msg;
}

export function toClairError(what: string, e: unknown): ClairError {
  if (e instanceof ClairError) return e;
  return new ClairError(pgErrorCode(e), `PostgreSQL ${what} failed: ${describePgError(e)}`, { cause: e });
}

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts?: number;
  /** Delay before the second attempt; doubled for each further one, capped at maxDelayMs, with ±25% jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Replaced in tests. */
  sleep?: (ms: number) => Promise<unknown>;
}

/**
 * Runs fn, again after a backoff while it fails transiently. Only for calls that are safe to repeat: fn must start
 * from scratch each time (its own connection, its own transaction). Failures end as a ClairError naming `what`.
 */
export async function retryTransient<T>(what: string, fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 5;
  const base = opts.baseDelayMs ?? 100;
  const max = opts.maxDelayMs ?? 2000;
  const wait = opts.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (e instanceof ClairError) throw e;
      if (!isTransientPgError(e)) throw toClairError(what, e);
      if (attempt >= attempts) {
        throw new ClairError('unavailable', `PostgreSQL ${what} failed after ${attempt} attempts: ${describePgError(e)}`, { cause: e });
      }
      const delay = Math.min(max, base * 2 ** (attempt - 1));
      await wait(delay * (0.75 + Math.random() * 0.5));
    }
  }
}
