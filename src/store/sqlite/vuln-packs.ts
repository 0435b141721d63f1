import type { StatementSync } from 'node:sqlite';
import { textIdsOf, type BuiltPack } from '../vulnerability-pack.ts';

// Writing and dropping vulnerability packs (store/vulnerability-pack.ts) in SQLite, for the writer, garbage
// collection and the migration that made them. vuln_text.refs counts the packs whose records use each text (a pack
// once per text), so that texts no pack uses can be found without opening every pack.

type Stmt = (sql: string) => StatementSync;

/**
 * The id of the stored pack equal to `p` in its key (bucket, context), inserting it when there is none. A key has
 * a few packs (one per state of the bucket's records that a kept operation holds), found by the lookup index.
 * (A pack written by another zlib whose bytes differ is not found: it is written again, once.) An inserted pack's
 * references to its texts are added to `refs`, for the caller's addTextRefs in the same transaction.
 */
export function storePack(stmt: Stmt, bucket: number, contextId: number, p: BuiltPack, refs: TextRefs, textIds?: readonly number[]): number {
  // Equal records make equal bytes (buildPacks): the key's packs are compared by their data, no hash stored.
  const found = stmt('SELECT id FROM vuln_pack WHERE bucket = ? AND context_id = ? AND data = ?').get(bucket, contextId, p.data);
  if (found) return found.id as number;
  const id = stmt('INSERT INTO vuln_pack (bucket, context_id, data) VALUES (?, ?, ?) RETURNING id')
    .get(bucket, contextId, p.data)!.id as number;
  // (The distinct text ids its lines hold: given by a writer that knows them, else read from the lines.)
  const texts = textIds ?? textIdsOf(p.lines);
  for (const t of texts) refs.set(t, (refs.get(t) ?? 0) + 1);
  return id;
}

/**
 * References to texts by packs stored (text id -> packs), for addTextRefs to count in vuln_text.refs. A writer
 * storing thousands of packs gathers them: an UPDATE per pack was most of storePack's time (a first Debian load:
 * 9,100 packs, ~100,000 references to ~40,000 texts, most texts used by a pack of each release).
 */
export type TextRefs = Map<number, number>;

/**
 * Counts gathered references in vuln_text.refs (inside the transaction that stored their packs), in one statement,
 * in id order: each text's page is written once, in the order the texts were inserted.
 */
export function addTextRefs(stmt: Stmt, refs: TextRefs): void {
  if (refs.size === 0) return;
  const pairs = [...refs].sort((a, b) => a[0] - b[0]);
  stmt('UPDATE vuln_text SET refs = refs + (j.value ->> 1) FROM json_each(?) AS j WHERE vuln_text.id = (j.value ->> 0)').run(JSON.stringify(pairs));
  refs.clear();
}

/** Deletes packs (no operation nor writer holds them any more: the caller checked) and the texts only they used. */
export function dropPacks(stmt: Stmt, packs: { id: number; lines: readonly string[] }[]): void {
  if (packs.length === 0) return;
  const counts = new Map<number, number>();
  for (const p of packs) for (const t of textIdsOf(p.lines)) counts.set(t, (counts.get(t) ?? 0) + 1);
  const del = stmt('DELETE FROM vuln_pack WHERE id = ?');
  for (const p of packs) del.run(p.id);
  const dec = stmt('UPDATE vuln_text SET refs = refs - ? WHERE id = ?');
  for (const [t, n] of counts) dec.run(n, t);
  if (counts.size > 0) stmt('DELETE FROM vuln_text WHERE refs <= 0 AND id IN (SELECT value FROM json_each(?))').run(JSON.stringify([...counts.keys()]));
}
