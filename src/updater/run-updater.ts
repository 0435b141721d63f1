import { createHash } from 'node:crypto';
import { pipeline, Transform } from 'node:stream';
import { ClairError } from '../model/errors.ts';
import type { UpdateOperation } from '../model/update-operation.ts';
import type { Store, UpdateOperationWriter } from '../store/store.ts';
import { openFeed, splitLocationOptions } from './feed-location.ts';
import { isEnrichmentUpdater, type AnyUpdater, type Updater } from './updater.ts';

// Runs one updater against one feed location and stores the result as one update operation, whole or not at all.
// The fingerprint is the parser's version plus the sha256 of the feed bytes: the same input again creates no new
// operation. Over HTTP the previous ETag is sent, so an unchanged remote feed is not even downloaded.

const BATCH = 1000;

/**
 * Operations kept per updater (Clair's matcher.update_retention). Older ones and the records only they held are
 * deleted after each new operation, so the database does not grow with every feed change; 0 keeps everything.
 * At least 2 are kept whenever pruning is on, so the newest change can always be diffed.
 */
export const DEFAULT_UPDATE_RETENTION = 10;

export async function pruneUpdateOperations(store: Store, updater: string, retention: number): Promise<string[]> {
  if (retention <= 0) return [];
  const keep = Math.max(2, retention);
  const ops = await store.listUpdateOperations(updater);
  return ops.length > keep ? store.deleteUpdateOperations(ops.slice(keep).map((o) => o.ref)) : [];
}

interface Fingerprint {
  parser: string;
  sha256: string;
  etag?: string;
}

export interface RunUpdaterOptions {
  signal?: AbortSignal;
  fetch?: typeof fetch;
  /** Operations to keep for this updater (default DEFAULT_UPDATE_RETENTION; 0 keeps all). */
  retention?: number;
  /** Store a feed that holds no records (refused by default: see refuseEmpty). */
  allowEmpty?: boolean;
  /** Records the updater skipped (UpdaterOptions.warn); without it they are counted in the result only. */
  warn?(message: string): void;
}

/**
 * A feed that parses but holds no records (`{}` for the Debian tracker, an empty mirror) would become an operation
 * that removes every record of the feed: every finding gone, and notifications saying so. That is far likelier a
 * broken mirror or a truncated download than the truth, so it is refused unless asked for (`--allow-empty`).
 */
async function refuseEmpty(writer: UpdateOperationWriter, updater: string, location: string, records: number, opts: RunUpdaterOptions): Promise<void> {
  if (records > 0 || opts.allowEmpty) return;
  await writer.abort();
  throw new ClairError('bad-feed', `${updater} feed ${location} holds no records; refused, the stored data is kept (allow it with --allow-empty)`);
}

export interface UpdateRunResult {
  updater: string;
  /** The new operation; undefined when the feed was unchanged. */
  operation?: UpdateOperation;
  unchanged: boolean;
  records: number;
  /** Records the updater skipped with a warning. */
  skipped?: number;
}

function parseFingerprint(s: string | undefined): Fingerprint | undefined {
  if (!s) return undefined;
  try {
    return JSON.parse(s) as Fingerprint;
  } catch {
    return undefined;
  }
}

export async function runUpdater(
  store: Store,
  updater: AnyUpdater,
  location: string,
  opts: RunUpdaterOptions = {},
): Promise<UpdateRunResult> {
  const enrichment = isEnrichmentUpdater(updater);
  if (!enrichment && updater.delta) return runDeltaUpdater(store, updater, location, opts);
  const { location: target, options } = splitLocationOptions(location, enrichment ? undefined : updater.locationOptions);
  const name = (enrichment ? undefined : updater.operationName?.(options)) ?? updater.name;
  // The options are part of the parser's identity: the same bytes read with another filter are another result.
  const optionText = Object.entries(options).map(([k, v]) => `${k}=${v}`).join('&');
  const parser = `${updater.name}@${updater.version}${optionText ? '#' + optionText : ''}`;
  const latest = (await store.listUpdateOperations(name))[0];
  const prev = parseFingerprint(latest?.fingerprint);
  const openOpts = {
    ...(prev?.parser === parser && prev.etag ? { etag: prev.etag } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  };
  const opened = updater.open ? await updater.open(target, openOpts) : await openFeed(target, openOpts);
  if ('notModified' in opened) return { updater: name, unchanged: true, records: 0 };

  const hash = createHash('sha256');
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const feed = pipeline(opened.stream, hasher, () => {});
  const writer = await store.beginUpdateOperation(name);
  let records = 0;
  let skipped = 0;
  const warn = (message: string): void => {
    skipped++;
    opts.warn?.(message);
  };
  try {
    records += enrichment
      ? await writeInBatches(updater.parse(feed, { location, options, warn }), (b) => writer.addEnrichments(b))
      : await writeInBatches(updater.parse(feed, { location, options, warn }), (b) => writer.add(b));
    // The parser may stop before the last byte (trailing whitespace): hash all of it.
    for await (const _ of feed) void _;
  } catch (e) {
    await writer.abort();
    feed.destroy();
    if (e instanceof ClairError) throw e;
    throw new ClairError('bad-feed', `${updater.name} feed ${location}: ${(e as Error).message}`, { cause: e });
  }
  const fp: Fingerprint = { parser, sha256: hash.digest('hex'), ...(opened.etag ? { etag: opened.etag } : {}) };
  if (prev && prev.parser === fp.parser && prev.sha256 === fp.sha256) {
    await writer.abort();
    return { updater: name, unchanged: true, records, skipped };
  }
  await refuseEmpty(writer, name, location, records, opts);
  const operation = await writer.commit(JSON.stringify(fp));
  await pruneUpdateOperations(store, name, opts.retention ?? DEFAULT_UPDATE_RETENTION);
  return { updater: name, operation, unchanged: false, records, skipped };
}

/**
 * The incremental shape (Updater.delta): the updater decides what to fetch from the previous fingerprint; the new
 * operation is the previous records it keeps plus what it parsed, written whole or not at all like any other.
 */
async function runDeltaUpdater(
  store: Store,
  updater: Updater,
  location: string,
  opts: RunUpdaterOptions,
): Promise<UpdateRunResult> {
  const latest = (await store.listUpdateOperations(updater.name))[0];
  const fetched = await updater.delta!.fetch({
    location,
    ...(latest ? { previous: { ref: latest.ref, fingerprint: latest.fingerprint } } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  if (fetched.unchanged) return { updater: updater.name, unchanged: true, records: 0 };
  const writer = await store.beginUpdateOperation(updater.name);
  let records = 0;
  try {
    if (latest && fetched.keepPrevious) records += await writer.carryOver(latest.ref, fetched.keepPrevious);
    records += await writeInBatches(fetched.records, (b) => writer.add(b));
  } catch (e) {
    await writer.abort();
    if (e instanceof ClairError) throw e;
    throw new ClairError('bad-feed', `${updater.name} feed ${location}: ${(e as Error).message}`, { cause: e });
  }
  await refuseEmpty(writer, updater.name, location, records, opts);
  const operation = await writer.commit(fetched.fingerprint);
  await pruneUpdateOperations(store, updater.name, opts.retention ?? DEFAULT_UPDATE_RETENTION);
  return { updater: updater.name, operation, unchanged: false, records };
}

/**
 * Streams records into the writer in batches; returns how many were written. Two batches are in the writer's hands
 * at a time: batch k+1 is given (the writer encodes it at once) before batch k's write is awaited, so the feed's
 * parsing and encoding overlap the database's work on the previous batch. PostgreSQL runs in another process, and
 * with one batch at a time a 128k-record Debian ingest spent half its time with one side idle, waiting on the other.
 * A writer writes its batches in order; the first failure ends the loop (the next batch's rejection is the same
 * failure, observed so it is not reported as unhandled).
 */
async function writeInBatches<T>(records: AsyncIterable<T>, add: (batch: T[]) => Promise<void>): Promise<number> {
  let n = 0;
  let batch: T[] = [];
  let inFlight: Promise<void> | undefined;
  const give = async (b: T[]): Promise<void> => {
    const next = add(b);
    next.catch(() => undefined);
    if (inFlight) await inFlight;
    inFlight = next;
    n += b.length;
  };
  for await (const v of records) {
    batch.push(v);
    if (batch.length >= BATCH) {
      await give(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await give(batch);
  if (inFlight) await inFlight;
  return n;
}
