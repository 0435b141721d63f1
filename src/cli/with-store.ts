import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { resolveDbLocation } from '../config/db-location.ts';
import type { CliIo } from './io.ts';

/** Runs `fn` with the store --db (or the environment) names, closing it afterwards whatever happens. */
export async function withStore<T>(db: string | undefined, io: CliIo, fn: (s: Store) => Promise<T>): Promise<T> {
  const store = await openStore(resolveDbLocation(db, io.env));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
