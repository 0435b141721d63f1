import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { createZstdCompress, createZstdDecompress } from 'node:zlib';
import { lazyRequire } from '../model/lazy-require.ts';
import { ClairError } from '../model/errors.ts';
import type { EnrichmentRecord } from '../model/enrichment.ts';
import type { UpdateOperation } from '../model/update-operation.ts';
import type { Vulnerability } from '../model/vulnerability.ts';
import type { Store, UpdateOperationWriter } from '../store/store.ts';
import { pruneUpdateOperations, DEFAULT_UPDATE_RETENTION } from './run-updater.ts';
import { isEnrichmentUpdater, type AnyUpdater } from './updater.ts';

const tar = lazyRequire<typeof import('tar-stream')>('tar-stream');

// Feed bundles for air-gapped sites, after Clair's `clairctl export-updaters` / `import-updaters`: the current
// update operation of each chosen feed, written on a machine that reaches the feeds and loaded into a database that
// does not. The bundle is a zstd-compressed tar:
//   manifest.json      { format, version, created, operations: [{ ref, updater, kind, fingerprint, date, count,
//                        file, size, sha256 }] }
//   manifest.json.sig  optional: the Ed25519 signature of manifest.json's bytes, base64
//   ops/<ref>.jsonl    one stored record per line, as the database holds it
// Import checks every file against the manifest's sha256 while it loads it, and commits nothing until every file
// checked out: a tampered or truncated bundle changes nothing. The operations keep their refs, dates and
// fingerprints, so reports and ETags agree between the two databases, and importing the same bundle twice is a no-op.

export const BUNDLE_FORMAT = 'clair-ts-feed-bundle';
export const BUNDLE_VERSION = 1;
const BATCH = 1000;

export interface BundleOperation {
  ref: string;
  updater: string;
  kind: 'vulnerability' | 'enrichment';
  fingerprint: string;
  date: string;
  count: number;
  file: string;
  size: number;
  sha256: string;
}

export interface BundleManifest {
  format: string;
  version: number;
  created: string;
  operations: BundleOperation[];
}

function loadKey(pem: string, kind: 'private' | 'public', path: string): KeyObject {
  let key: KeyObject;
  try {
    key = kind === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
  } catch (e) {
    throw new ClairError('bad-input', `${path} is not a PEM ${kind} key: ${(e as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new ClairError('bad-input', `${path} is a ${key.asymmetricKeyType} key; bundles are signed with Ed25519`);
  return key;
}

export interface ExportOptions {
  /** Feed names to export (default: every feed that has an operation). */
  feeds?: string[];
  /** PEM file of an Ed25519 private key to sign the manifest with. */
  signKeyFile?: string;
}

/** Writes the bundle to `file`; returns its manifest. */
export async function exportFeeds(store: Store, feeds: readonly AnyUpdater[], file: string, opts: ExportOptions = {}): Promise<BundleManifest> {
  const signKey = opts.signKeyFile ? loadKey(await readKeyFile(opts.signKeyFile), 'private', opts.signKeyFile) : undefined;
  const known = new Map(feeds.map((f) => [f.name, f]));
  for (const name of opts.feeds ?? []) if (!known.has(name)) throw new ClairError('bad-input', `unknown feed "${name}"; known: ${[...known.keys()].join(', ')}`);
  const newest = new Map<string, UpdateOperation>();
  for (const op of await store.listUpdateOperations()) if (!newest.has(op.updater) && known.has(op.updater)) newest.set(op.updater, op);
  const chosen = [...newest.values()].filter((op) => !opts.feeds || opts.feeds.includes(op.updater));
  for (const name of opts.feeds ?? []) if (!newest.has(name)) throw new ClairError('not-found', `feed "${name}" has no update operation in this database; run \`clair-ts update --source ${name}=…\` first`);
  if (chosen.length === 0) throw new ClairError('not-found', 'no feed has an update operation in this database: nothing to export');

  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-bundle-'));
  try {
    const operations: BundleOperation[] = [];
    for (const op of chosen.sort((a, b) => (a.updater < b.updater ? -1 : 1))) {
      const name = `ops/${op.ref}.jsonl`;
      const path = join(dir, `${op.ref}.jsonl`);
      const hash = createHash('sha256');
      let size = 0;
      let count = 0;
      const out = createWriteStream(path);
      for await (const batch of store.readUpdateOperation(op.ref)) {
        const text = batch.join('\n') + '\n';
        hash.update(text);
        size += Buffer.byteLength(text);
        count += batch.length;
        if (!out.write(text)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
      await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
      operations.push({
        ref: op.ref, updater: op.updater, kind: isEnrichmentUpdater(known.get(op.updater)!) ? 'enrichment' : 'vulnerability',
        fingerprint: op.fingerprint, date: op.date, count, file: name, size, sha256: hash.digest('hex'),
      });
    }
    const manifest: BundleManifest = { format: BUNDLE_FORMAT, version: BUNDLE_VERSION, created: new Date().toISOString(), operations };
    const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
    const pack = tar().pack();
    const written = pipeline(pack, createZstdCompress(), createWriteStream(file));
    const entry = (name: string, size: number) => ({ name, size, mode: 0o644, mtime: new Date(manifest.created) });
    pack.entry(entry('manifest.json', manifestBytes.length), manifestBytes);
    if (signKey) {
      const sig = Buffer.from(sign(null, manifestBytes, signKey).toString('base64') + '\n');
      pack.entry(entry('manifest.json.sig', sig.length), sig);
    }
    for (const op of operations) {
      const sink = pack.entry(entry(op.file, op.size));
      await pipeline(createReadStream(join(dir, `${op.ref}.jsonl`)), sink);
    }
    pack.finalize();
    await written;
    return manifest;
  } catch (e) {
    await rm(file, { force: true });
    throw e;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function readKeyFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new ClairError('not-found', `key file ${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function checkManifest(m: unknown, feeds: ReadonlyMap<string, AnyUpdater>, file: string): BundleManifest {
  const bad = (why: string) => new ClairError('bad-feed', `${file}: manifest.json ${why}`);
  if (typeof m !== 'object' || m === null) throw bad('is not an object');
  const o = m as Record<string, unknown>;
  if (o['format'] !== BUNDLE_FORMAT) throw bad(`is not a clair-ts feed bundle (format ${JSON.stringify(o['format'])})`);
  if (o['version'] !== BUNDLE_VERSION) throw bad(`has version ${JSON.stringify(o['version'])}; this clair-ts reads version ${BUNDLE_VERSION}`);
  if (!Array.isArray(o['operations']) || o['operations'].length === 0) throw bad('lists no operations');
  const seen = new Set<string>();
  for (const op of o['operations'] as Record<string, unknown>[]) {
    for (const k of ['ref', 'updater', 'kind', 'fingerprint', 'date', 'file', 'sha256'] as const) if (typeof op?.[k] !== 'string') throw bad(`operation without a string ${k}`);
    for (const k of ['count', 'size'] as const) if (!Number.isSafeInteger(op[k]) || (op[k] as number) < 0) throw bad(`operation ${op['ref']} without a whole ${k}`);
    const feed = feeds.get(op['updater'] as string);
    if (!feed) throw new ClairError('unsupported', `${file}: feed "${op['updater']}" is unknown to this clair-ts; known: ${[...feeds.keys()].join(', ')}`);
    if ((op['kind'] === 'enrichment') !== isEnrichmentUpdater(feed)) throw bad(`says feed ${op['updater']} is of kind ${op['kind']}`);
    if (!/^[0-9a-f]{64}$/.test(op['sha256'] as string)) throw bad(`operation ${op['ref']}: sha256 is not 64 hex digits`);
    if (Number.isNaN(Date.parse(op['date'] as string))) throw bad(`operation ${op['ref']}: date ${JSON.stringify(op['date'])} is not a date`);
    if (seen.has(op['file'] as string)) throw bad(`lists ${op['file']} twice`);
    seen.add(op['file'] as string);
  }
  return m as BundleManifest;
}

export interface ImportOptions {
  /** PEM file of the Ed25519 public key the manifest must be signed with. */
  verifyKeyFile?: string;
  retention?: number;
}

export interface ImportResult {
  imported: UpdateOperation[];
  /** Operations the database already had (same ref): left as they are. */
  present: string[];
  signed: boolean;
}

/** Loads a bundle written by exportFeeds; all of it or, on any failure, nothing. */
export async function importFeeds(store: Store, feeds: readonly AnyUpdater[], file: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const verifyKey = opts.verifyKeyFile ? loadKey(await readKeyFile(opts.verifyKeyFile), 'public', opts.verifyKeyFile) : undefined;
  const known = new Map(feeds.map((f) => [f.name, f]));
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file');
  } catch (e) {
    throw new ClairError('not-found', `bundle ${file} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const extract = tar().extract();
  const source = pipeline(createReadStream(file), createZstdDecompress(), extract);
  let manifest: BundleManifest | undefined;
  let manifestBytes: Buffer | undefined;
  let signature: string | undefined;
  const writers = new Map<string, { op: BundleOperation; writer: UpdateOperationWriter }>();
  const done = new Set<string>();
  const present: string[] = [];
  const fail = (why: string) => new ClairError('digest-mismatch', `${file}: ${why}`);
  try {
    for await (const entry of extract) {
      const name = entry.header.name;
      if (name === 'manifest.json' || name === 'manifest.json.sig') {
        if (manifest) throw new ClairError('bad-feed', `${file}: ${name} comes after the operations; the manifest and its signature come first`);
        const chunks: Buffer[] = [];
        for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
        const bytes = Buffer.concat(chunks);
        if (name === 'manifest.json.sig') signature = bytes.toString('utf8').trim();
        else manifestBytes = bytes;
        continue;
      }
      if (!manifest) {
        if (!manifestBytes) throw new ClairError('bad-feed', `${file}: the first entry is ${JSON.stringify(name)}, not manifest.json: not a clair-ts feed bundle`);
        if (verifyKey) {
          if (!signature) throw new ClairError('unauthorized', `${file} is not signed, and --verify asks for a signature`);
          if (!verify(null, manifestBytes, verifyKey, Buffer.from(signature, 'base64'))) throw new ClairError('unauthorized', `${file}: the signature does not verify with ${opts.verifyKeyFile}`);
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(manifestBytes.toString('utf8'));
        } catch (e) {
          throw new ClairError('bad-feed', `${file}: manifest.json is not JSON: ${(e as Error).message}`);
        }
        manifest = checkManifest(parsed, known, file);
        for (const op of manifest.operations) {
          if (await store.getUpdateOperation(op.ref)) {
            present.push(op.ref);
            done.add(op.file);
          }
        }
      }
      const op = manifest.operations.find((o) => o.file === name);
      if (!op) throw new ClairError('bad-feed', `${file}: ${JSON.stringify(name)} is not in the manifest`);
      if (done.has(name) && !present.includes(op.ref)) throw new ClairError('bad-feed', `${file}: ${name} appears twice`);
      if (present.includes(op.ref)) {
        entry.resume();
        continue;
      }
      done.add(name);
      const feed = known.get(op.updater)!;
      const writer = await store.beginUpdateOperation(op.updater, { ref: op.ref, date: op.date });
      writers.set(op.ref, { op, writer });
      const hash = createHash('sha256');
      let size = 0;
      const hashed = new Transform({
        transform(c: Buffer, _enc, cb) {
          hash.update(c);
          size += c.length;
          cb(null, c);
        },
      });
      entry.pipe(hashed);
      let count = 0;
      let batch: unknown[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        if (isEnrichmentUpdater(feed)) await writer.addEnrichments(batch as EnrichmentRecord[]);
        else await writer.add(batch as Vulnerability[]);
        batch = [];
      };
      for await (const line of createInterface({ input: hashed, crlfDelay: Infinity })) {
        if (line === '') continue;
        let rec: unknown;
        try {
          rec = JSON.parse(line);
        } catch {
          throw fail(`${name} line ${count + 1} is not JSON (the file was altered or cut)`);
        }
        const updater = (rec as { updater?: unknown })?.updater;
        if (typeof updater !== 'string' || (updater !== op.updater && !updater.startsWith(op.updater + '/'))) {
          throw fail(`${name} line ${count + 1} is not a record of ${op.updater}`);
        }
        batch.push(rec);
        count++;
        if (batch.length >= BATCH) await flush();
      }
      await flush();
      const digest = hash.digest('hex');
      if (size !== op.size || digest !== op.sha256) throw fail(`${name} has sha256 ${digest} (${size} bytes); the manifest says ${op.sha256} (${op.size} bytes)`);
      if (count !== op.count) throw fail(`${name} holds ${count} records; the manifest says ${op.count}`);
    }
    await source;
    if (!manifest) throw new ClairError('bad-feed', `${file}: no manifest.json: not a clair-ts feed bundle`);
    const missing = manifest.operations.filter((o) => !done.has(o.file));
    if (missing.length > 0) throw fail(`the bundle ends without ${missing.map((o) => o.file).join(', ')}`);
  } catch (e) {
    for (const { writer } of writers.values()) await writer.abort().catch(() => undefined);
    source.catch(() => undefined);
    extract.destroy();
    if (e instanceof ClairError) throw e;
    throw new ClairError('bad-feed', `${file} is not a readable feed bundle: ${(e as Error).message}`, { cause: e });
  }
  // Every file checked out: commit, oldest operation first, so each feed's newest stays newest.
  const imported: UpdateOperation[] = [];
  const order = [...writers.values()].sort((a, b) => Date.parse(a.op.date) - Date.parse(b.op.date));
  for (const { op, writer } of order) imported.push(await writer.commit(op.fingerprint));
  for (const updater of new Set(imported.map((o) => o.updater))) await pruneUpdateOperations(store, updater, opts.retention ?? DEFAULT_UPDATE_RETENTION);
  return { imported, present, signed: signature !== undefined };
}

