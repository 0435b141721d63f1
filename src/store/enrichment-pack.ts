import { deflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import type { EnrichmentRecord } from '../model/enrichment.ts';
import { LruCache } from '../model/lru-cache.ts';
import { deflateWorker } from './deflate-worker.ts';

// Enrichment records (EPSS, KEV, NVD's CVSS) are stored in packs, not as one row each. A feed of small records
// (EPSS: CVE, score, percentile; ~32 bytes a CSV row) cost ~260 bytes a record as a row (content hash, links to its
// operation, three indexes), 8x the feed. They need none of what rows give vulnerabilities: they are looked up by
// CVE id in the newest operation only, never diffed, never shared between operations (a new EPSS file changes most
// scores). So an operation's enrichment records are sorted by CVE id and cut into packs of a few hundred, each a
// row (operation, updater, run, first and last id, count, deflated records); a lookup finds a pack by its first id
// and searches inside it.
//
// A writer sorts what it holds in memory; past MAX_RUN_BYTES it writes what it has as one sorted "run" (per updater:
// an operation may hold records of "u" and "u/sub") and starts another, so memory stays bounded whatever the feed's
// size. Within a run packs do not overlap, so a lookup reads at most one pack per run (EPSS and KEV fit in one run;
// NVD's full feed takes a few).
//
// A pack holds the JSON array of its ids on the first line, then one line per record: the enrichment's JSON as the
// record carried it (JSON.stringify never writes a raw newline), so a record read back is byte for byte the
// record written, and an export holds the same JSON.

/** Raw bytes of a pack before deflate: larger packs compress better, smaller ones are quicker to open. */
const PACK_BYTES = 16 * 1024;
const PACK_RECORDS = 512;
/** Raw bytes a writer holds before it writes a run. */
export const MAX_RUN_BYTES = 64 * 1024 * 1024;

export interface Pack {
  updater: string;
  run: number;
  first: string;
  last: string;
  count: number;
  data: Buffer;
}

/** The records of one updater: ids and JSON side by side (no object per record: fewer for the collector to copy). */
interface Records {
  tags: string[];
  jsons: string[];
}

/**
 * Ids in code-point order, the order SQLite's BINARY and PostgreSQL's "C" collation compare UTF-8 in (JavaScript's
 * `<` compares UTF-16 code units, which differs for characters above U+FFFF).
 */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    return (a.codePointAt(i) ?? 0) - (b.codePointAt(i) ?? 0);
  }
  return a.length - b.length;
}

/**
 * A copy of a Latin-1 id as a string of its own. An id cut out of a feed's line (split, slice) is, in V8, a view
 * into the line's string, and V8 compares two such views on a slow path: sorting the 300k ids of an EPSS feed took
 * 140 ms, of copies 56 ms, and the copies cost 30-40 ms. (Buffer's latin1 toString makes a flat one-byte string.)
 */
function flatCopy(tag: string): string {
  const n = scratch.write(tag, 0, 'latin1');
  return scratch.toString('latin1', 0, n);
}
const FLAT_TAG = 256;
const scratch = Buffer.allocUnsafe(FLAT_TAG);

/** The records one writer was given, by updater, cut into sorted packs run by run. */
export class PackBuilder {
  readonly #entries = new Map<string, Records>();
  readonly #maxRunBytes: number;
  #bytes = 0;
  #run = 0;
  /** Whether an id held has a character from U+D800 up (then only compareIds sorts them right). */
  #wide = false;

  constructor(maxRunBytes = MAX_RUN_BYTES) {
    this.#maxRunBytes = maxRunBytes;
  }

  add(e: EnrichmentRecord): void {
    this.addJson(e.updater, e.tag, JSON.stringify(e.enrichment));
  }

  /** A record whose enrichment is already JSON (JSON.stringify's output). */
  addJson(updater: string, tag: string, json: string): void {
    let list = this.#entries.get(updater);
    if (!list) this.#entries.set(updater, (list = { tags: [], jsons: [] }));
    if (/[^\x00-\xff]/.test(tag)) {
      if (!this.#wide && /[\ud800-\uffff]/.test(tag)) this.#wide = true;
    } else if (tag.length <= FLAT_TAG) {
      tag = flatCopy(tag);
    }
    list.tags.push(tag);
    list.jsons.push(json);
    this.#bytes += tag.length + json.length + 16;
  }

  /** Whether the records held have grown past a run's size (then drain, and write the packs). */
  get full(): boolean {
    return this.#bytes >= this.#maxRunBytes;
  }

  get empty(): boolean {
    return this.#entries.size === 0;
  }

  /** Everything held, as the packs of one run per updater (a run never mixes updaters); the builder is empty after. */
  drain(): Pack[] {
    const packs: Pack[] = [];
    for (const c of this.#take()) packs.push(packOf(c, deflateRawSync(c.text)));
    return packs;
  }

  /**
   * drain(), with the deflating done off this thread while it cuts the next packs (a run of WORKER_BYTES or more
   * on the deflate worker, a smaller one on zlib's threads, DEFLATES packs at a time): the same packs, in the same
   * order. The builder is empty when this returns (the promise): a caller may
   * add the next run's records while the packs of this one are deflated.
   */
  drainAsync(): Promise<Pack[]> {
    if (this.#bytes >= WORKER_BYTES) return this.#drainOnWorker();
    const cuts = this.#take()[Symbol.iterator]();
    const packs: Pack[] = [];
    return new Promise((resolve, reject) => {
      let inFlight = 0;
      let ended = false;
      let failed = false;
      const pump = (): void => {
        while (!ended && inFlight < DEFLATES) {
          const r = cuts.next();
          if (r.done) {
            ended = true;
            break;
          }
          const c = r.value;
          const slot = packs.length;
          packs.push(packOf(c, EMPTY));
          inFlight++;
          deflateRaw(c.text, (err, data) => {
            inFlight--;
            if (failed) return;
            if (err) {
              failed = true;
              reject(err);
              return;
            }
            packs[slot]!.data = data;
            pump();
          });
        }
        if (ended && inFlight === 0) resolve(packs);
      };
      try {
        pump();
      } catch (e) {
        failed = true;
        reject(e);
      }
    });
  }

  /**
   * drainAsync() of a large run: deflated on the deflate worker (deflate-worker.ts), SLICE packs a request, two in
   * flight, while this thread cuts the next and deflates the slices that come while two are in flight. An async
   * zlib call costs this thread its stream's set-up (210 ms of an EPSS feed's 1 s, for ~600 packs); a request to the
   * worker, a copy of the texts. Deflated here if the worker fails.
   */
  async #drainOnWorker(): Promise<Pack[]> {
    const cuts = this.#take()[Symbol.iterator]();
    const packs: Pack[] = [];
    const inFlight = new Set<Promise<void>>();
    for (;;) {
      const slice: { slot: number; text: string }[] = [];
      for (let r = cuts.next(); !r.done; r = cuts.next()) {
        slice.push({ slot: packs.length, text: r.value.text });
        packs.push(packOf(r.value, EMPTY));
        if (slice.length >= SLICE) break;
      }
      if (slice.length === 0) break;
      if (inFlight.size >= 2) {
        // The worker has enough: this slice is deflated here meanwhile (both cores busy), and its replies are taken.
        for (const x of slice) packs[x.slot]!.data = deflateRawSync(x.text);
        await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      const p: Promise<void> = deflateWorker.deflateRaw(slice.map((x) => x.text)).then(
        (data) => slice.forEach((x, i) => (packs[x.slot]!.data = data[i]!)),
        () => slice.forEach((x) => (packs[x.slot]!.data = deflateRawSync(x.text))),
      ).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    return packs;
  }

  /**
   * Takes everything held (the builder is empty after) and cuts it into the raw texts of packs, one run per
   * updater, lazily: the packs of a run are cut as they are asked for.
   */
  #take(): Iterable<Cut> {
    const entries = [...this.#entries];
    const wide = this.#wide;
    const runs = entries.map(() => this.#run++);
    this.#entries.clear();
    this.#bytes = 0;
    this.#wide = false;
    return (function* () {
      for (let k = 0; k < entries.length; k++) yield* cutRun(entries[k]![0], entries[k]![1], runs[k]!, wide);
    })();
  }
}

interface Cut {
  updater: string;
  run: number;
  first: string;
  last: string;
  count: number;
  /** The pack before deflate. */
  text: string;
}

/** Packs deflated on zlib's threads at a time (its pool has 4 threads unless UV_THREADPOOL_SIZE says otherwise). */
const DEFLATES = 4;
/** A run this large (raw bytes held, ~60 packs) is deflated on the deflate worker; smaller ones on zlib's threads. */
const WORKER_BYTES = 1024 * 1024;
/** Packs per request to the deflate worker. */
const SLICE = 32;
const EMPTY = Buffer.alloc(0);

function packOf(c: Cut, data: Buffer): Pack {
  return { updater: c.updater, run: c.run, first: c.first, last: c.last, count: c.count, data };
}

/** The packs of one run: its records sorted by id, the same record twice kept once, cut between ids. */
function* cutRun(updater: string, list: Records, run: number, wide: boolean): Generator<Cut> {
  // The records' positions, sorted by id. A stable sort: the records of one id keep the order they came in, the
  // order the report lists them. Below U+D800, code units compare as code points, and `<` is several times quicker
  // than compareIds.
  const ids = list.tags;
  const n = ids.length;
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (wide) order.sort((a, b) => compareIds(ids[a]!, ids[b]!));
  else {
    order.sort((a, b) => {
      const x = ids[a]!;
      const y = ids[b]!;
      return x < y ? -1 : x > y ? 1 : 0;
    });
  }
  let tags: string[] = [];
  let text = '';
  let bytes = 0;
  for (let i = 0; i < n; ) {
    const tag = ids[order[i]!]!;
    let j = i + 1;
    while (j < n && ids[order[j]!] === tag) j++;
    // Packs are cut between ids, never inside one: all records of an id are in one pack of a run.
    if (tags.length > 0 && (bytes >= PACK_BYTES || tags.length >= PACK_RECORDS)) {
      yield { updater, run, first: tags[0]!, last: tags[tags.length - 1]!, count: tags.length, text: JSON.stringify(tags) + text };
      tags = [];
      text = '';
      bytes = 0;
    }
    // The same record twice is one record, as for vulnerabilities (one content hash): looked for only among the
    // records of one id, and only when it has more than one.
    const seen = j - i > 1 ? new Set<string>() : undefined;
    for (; i < j; i++) {
      const json = list.jsons[order[i]!]!;
      if (seen) {
        if (seen.has(json)) continue;
        seen.add(json);
      }
      tags.push(tag);
      text += '\n' + json;
      bytes += tag.length + json.length + 4;
    }
  }
  if (tags.length > 0) yield { updater, run, first: tags[0]!, last: tags[tags.length - 1]!, count: tags.length, text: JSON.stringify(tags) + text };
}

export interface OpenPack {
  tags: string[];
  jsons: string[];
}

export function openPack(data: Uint8Array): OpenPack {
  const text = inflateRawSync(data).toString('utf8');
  const nl = text.indexOf('\n');
  const tags = JSON.parse(text.slice(0, nl)) as string[];
  const jsons = text.slice(nl + 1).split('\n');
  if (jsons.length !== tags.length) throw new Error(`enrichment pack holds ${tags.length} ids and ${jsons.length} records`);
  return { tags, jsons };
}

/** The records of `tag` in an open pack (binary search; they are adjacent). */
export function recordsOf(p: OpenPack, updater: string, tag: string): EnrichmentRecord[] {
  let lo = 0;
  let hi = p.tags.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareIds(p.tags[mid]!, tag) < 0) lo = mid + 1;
    else hi = mid;
  }
  const out: EnrichmentRecord[] = [];
  for (let i = lo; i < p.tags.length && p.tags[i] === tag; i++) out.push({ updater, tag, enrichment: JSON.parse(p.jsons[i]!) as Record<string, unknown> });
  return out;
}

/** Every record of an open pack as the canonical JSON of the record (what readUpdateOperation yields). */
export function packRecordJson(p: OpenPack, updater: string): string[] {
  const u = JSON.stringify(updater);
  return p.tags.map((t, i) => `{"updater":${u},"tag":${JSON.stringify(t)},"enrichment":${p.jsons[i]}}`);
}

/**
 * Opened packs by id, per store. Pack ids are never reused (SQLite AUTOINCREMENT, PostgreSQL identity) and a pack
 * never changes, so an entry cannot go stale. A report asks for the same few hundred CVEs again and again.
 */
export class PackCache {
  readonly #packs = new LruCache<string, OpenPack>(512);

  /** The pack if it is open already. */
  peek(id: string): OpenPack | undefined {
    return this.#packs.get(id);
  }

  get(id: string, load: () => Uint8Array): OpenPack {
    let p = this.#packs.get(id);
    if (!p) {
      p = openPack(load());
      this.#packs.set(id, p);
    }
    return p;
  }
}
