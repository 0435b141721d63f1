import type { Store } from './store.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';

/** A postgres:// or postgresql:// connstring selects PostgreSQL; anything else is an SQLite file path. */
export async function openStore(location: string): Promise<Store> {
  if (/^postgres(ql)?:\/\//i.test(location)) {
    const { PostgresStore } = await import('./postgres/postgres-store.ts');
    return PostgresStore.open(location);
  }
  return SqliteStore.open(location);
}
