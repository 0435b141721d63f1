// PostgreSQL for tests: the server at CLAIR_TS_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test, the
// trust-auth cluster .ci/run starts). Every test gets a schema of its own (clair_ts_test_<random>), dropped after,
// so concurrent runs and earlier runs never see each other's data. Unreachable → tests skip with a clear message;
// under CI (env CI set) they fail instead.

import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

export function postgresTestUrl(): string {
  return process.env['CLAIR_TS_POSTGRES_URL'] || DEFAULT_POSTGRES_URL;
}

export interface TestPostgres {
  url: string;
  /** A fresh, empty schema; pass it as PostgresStore.open's `schema` option. */
  schema: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  c.on('error', () => {}); // a test schema's admin connection dying is reported by its next query
  await c.connect();
  return c;
}

/** Why PostgreSQL tests cannot run here, or undefined when they can (always undefined under CI: they must run). */
export async function postgresSkipReason(): Promise<string | undefined> {
  if (process.env['CI']) return undefined;
  const url = postgresTestUrl();
  try {
    const c = await connect(url);
    await c.end();
    return undefined;
  } catch (e) {
    return `PostgreSQL not reachable at ${redacted(url)} (${(e as Error).message}); set CLAIR_TS_POSTGRES_URL`;
  }
}

/**
 * Creates a unique schema and returns how to reach it; undefined when PostgreSQL is unreachable (outside CI).
 * Under CI an unreachable server is an error.
 */
export async function openTestPostgres(): Promise<TestPostgres | undefined> {
  const url = postgresTestUrl();
  let admin: pg.Client;
  try {
    admin = await connect(url);
  } catch (e) {
    if (process.env['CI']) {
      throw new Error(`PostgreSQL not reachable at ${redacted(url)} but CI is set: ${(e as Error).message}`, { cause: e });
    }
    return undefined;
  }
  const schema = `clair_ts_test_${randomBytes(6).toString('hex')}`;
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  return {
    url,
    schema,
    drop: async () => {
      const c = await connect(url);
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}
