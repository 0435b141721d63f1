import { ClairError } from '../../model/errors.ts';

// An rpm header blob as the package databases store it (rpm's "hdrblob"): int32 BE index count `il`, int32 BE data
// length `dl`, `il` 16-byte index entries (tag, type, offset, count — all int32 BE), then the `dl`-byte data store.
// Layout and limits follow rpm's lib/header.c (hdrblobInit, hdrblobVerifyInfo, hdrblobVerifyRegion), rpm 4.18.
// Every read is bounds-checked against the blob: a corrupt header raises ClairError('bad-database'), it never reads
// outside the data store or loops past it.

/** The tags this project reads (lib/rpmtag.h). */
export const RpmTag = {
  HEADERIMAGE: 61,
  HEADERSIGNATURES: 62,
  HEADERIMMUTABLE: 63,
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  SUMMARY: 1004,
  SIZE: 1009,
  VENDOR: 1011,
  LICENSE: 1014,
  ARCH: 1022,
  FILENAMES: 1027, // rpm < 4.0 (and rpm 3 compat): full paths
  SOURCERPM: 1044,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  LONGSIZE: 5009,
  MODULARITYLABEL: 5096,
} as const;

/** Value types (lib/rpmtypes.h: rpmTagType). */
const RpmType = {
  NULL: 0,
  CHAR: 1,
  INT8: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  STRING: 6,
  BIN: 7,
  STRING_ARRAY: 8,
  I18NSTRING: 9,
} as const;

// rpm's own sanity limits (header_internal.h): HEADER_TAGS_MAX and HEADER_DATA_MAX.
const MAX_TAGS = 0xffff;
const MAX_DATA = 0x0fffffff;
const ENTRY_SIZE = 16;

/** Byte width of one element of each fixed-size type; 0 for the string types. */
const WIDTH: readonly number[] = [0, 1, 1, 2, 4, 8, 0, 1, 0, 0];

/** One record of a package database: rpm's header number (install instance) and its header blob. */
export interface StoredHeader {
  hnum: number;
  blob: Buffer;
}

export interface HeaderEntry {
  tag: number;
  type: number;
  offset: number;
  count: number;
}

export class RpmHeader {
  /** e.g. "rpm header #12 in var/lib/rpm/Packages": the prefix of every error this header raises. */
  readonly label: string;
  readonly #data: Buffer;
  // Dribble entries (outside the immutable region, added by rpm after install) follow the region in the index and
  // replace region entries with the same tag, as rpm's headerImport does: the last entry for a tag wins.
  readonly #entries = new Map<number, HeaderEntry>();

  constructor(label: string, data: Buffer, entries: HeaderEntry[]) {
    this.label = label;
    this.#data = data;
    for (const e of entries) this.#entries.set(e.tag, e);
  }

  has(tag: number): boolean {
    return this.#entries.has(tag);
  }

  /** A STRING, or the first string of a STRING_ARRAY / I18NSTRING (the untranslated one). */
  string(tag: number): string | undefined {
    const e = this.#entries.get(tag);
    if (!e) return undefined;
    if (e.type !== RpmType.STRING && e.type !== RpmType.STRING_ARRAY && e.type !== RpmType.I18NSTRING) {
      throw this.#bad(`tag ${tag} has type ${e.type}, not a string`);
    }
    return this.#strings(e, 1)[0];
  }

  stringArray(tag: number): string[] | undefined {
    const e = this.#entries.get(tag);
    if (!e) return undefined;
    if (e.type !== RpmType.STRING_ARRAY && e.type !== RpmType.STRING && e.type !== RpmType.I18NSTRING) {
      throw this.#bad(`tag ${tag} has type ${e.type}, not a string array`);
    }
    return this.#strings(e, e.count);
  }

  /** All values of an integer tag (CHAR, INT8, INT16, INT32 unsigned as rpm prints them; INT64 as a number). */
  integers(tag: number): number[] | undefined {
    const e = this.#entries.get(tag);
    if (!e) return undefined;
    const d = this.#data;
    const out = new Array<number>(e.count);
    switch (e.type) {
      case RpmType.CHAR:
      case RpmType.INT8:
        for (let i = 0; i < e.count; i++) out[i] = d[e.offset + i]!;
        break;
      case RpmType.INT16:
        for (let i = 0; i < e.count; i++) out[i] = d.readUInt16BE(e.offset + 2 * i);
        break;
      case RpmType.INT32:
        for (let i = 0; i < e.count; i++) out[i] = d.readUInt32BE(e.offset + 4 * i);
        break;
      case RpmType.INT64:
        for (let i = 0; i < e.count; i++) out[i] = Number(d.readBigUInt64BE(e.offset + 8 * i));
        break;
      default:
        throw this.#bad(`tag ${tag} has type ${e.type}, not an integer`);
    }
    return out;
  }

  integer(tag: number): number | undefined {
    return this.integers(tag)?.[0];
  }

  /** Raw bytes of a BIN tag. */
  binary(tag: number): Buffer | undefined {
    const e = this.#entries.get(tag);
    if (!e) return undefined;
    if (e.type !== RpmType.BIN) throw this.#bad(`tag ${tag} has type ${e.type}, not binary`);
    return this.#data.subarray(e.offset, e.offset + e.count);
  }

  // Strings are NUL-terminated inside the data store; the terminator must be found before the store ends.
  #strings(e: HeaderEntry, n: number): string[] {
    const d = this.#data;
    const out: string[] = [];
    let pos = e.offset;
    for (let i = 0; i < n; i++) {
      const end = d.indexOf(0, pos);
      if (end < 0) throw this.#bad(`tag ${e.tag}: string ${i} runs past the data store (${d.length} bytes)`);
      out.push(d.toString('utf8', pos, end));
      pos = end + 1;
    }
    return out;
  }

  #bad(msg: string): ClairError {
    return new ClairError('bad-database', `${this.label}: ${msg}`);
  }
}

/**
 * Parses and checks the index of a header blob. Fixed-size values are checked to lie inside the data store here;
 * strings are checked when read (only the tags a caller asks for are scanned).
 */
export function parseHeaderBlob(blob: Buffer, label: string): RpmHeader {
  const bad = (msg: string) => new ClairError('bad-database', `${label}: ${msg}`);
  if (blob.length < 8) throw bad(`${blob.length} bytes, too short for a header`);
  const il = blob.readUInt32BE(0);
  const dl = blob.readUInt32BE(4);
  if (il < 1 || il > MAX_TAGS) throw bad(`index count ${il} out of range 1..${MAX_TAGS}`);
  if (dl > MAX_DATA) throw bad(`data length ${dl} exceeds ${MAX_DATA}`);
  const dataStart = 8 + il * ENTRY_SIZE;
  if (dataStart + dl > blob.length) {
    throw bad(`index count ${il} and data length ${dl} need ${dataStart + dl} bytes, the blob has ${blob.length}`);
  }
  const data = blob.subarray(dataStart, dataStart + dl);
  const entries: HeaderEntry[] = new Array(il);
  for (let i = 0; i < il; i++) {
    const p = 8 + i * ENTRY_SIZE;
    const e: HeaderEntry = {
      tag: blob.readUInt32BE(p),
      type: blob.readUInt32BE(p + 4),
      offset: blob.readInt32BE(p + 8),
      count: blob.readUInt32BE(p + 12),
    };
    if (e.type > RpmType.I18NSTRING) throw bad(`entry ${i} (tag ${e.tag}) has unknown type ${e.type}`);
    if (e.offset < 0 || e.offset >= dl) {
      throw bad(`entry ${i} (tag ${e.tag}) offset ${e.offset} outside the data store (${dl} bytes)`);
    }
    if (e.count < 1 || e.count > dl) throw bad(`entry ${i} (tag ${e.tag}) count ${e.count} out of range`);
    if (e.type === RpmType.STRING && e.count !== 1) throw bad(`entry ${i} (tag ${e.tag}) is a STRING with count ${e.count}`);
    const w = WIDTH[e.type]!;
    if (w > 1 && e.offset % w !== 0) throw bad(`entry ${i} (tag ${e.tag}) offset ${e.offset} not aligned to ${w}`);
    if (w > 0 && e.offset + w * e.count > dl) {
      throw bad(`entry ${i} (tag ${e.tag}) value of ${w * e.count} bytes at ${e.offset} runs past the data store (${dl} bytes)`);
    }
    entries[i] = e;
  }
  checkRegion(entries, data, bad);
  return new RpmHeader(label, data, entries);
}

function isRegionTag(tag: number): boolean {
  return tag === RpmTag.HEADERIMAGE || tag === RpmTag.HEADERSIGNATURES || tag === RpmTag.HEADERIMMUTABLE;
}

// When the first entry is a region tag, its value is a 16-byte trailer entry in the data store whose offset is
// minus the region's index size (hdrblobVerifyRegion). Headers without a region are legacy and accepted as rpm does.
function checkRegion(entries: HeaderEntry[], data: Buffer, bad: (msg: string) => ClairError): void {
  const first = entries[0]!;
  if (!isRegionTag(first.tag)) return;
  if (first.type !== RpmType.BIN || first.count !== ENTRY_SIZE) {
    throw bad(`region tag ${first.tag} has type ${first.type} and count ${first.count}, want BIN of 16`);
  }
  if (first.offset + ENTRY_SIZE > data.length) throw bad(`region trailer at ${first.offset} runs past the data store`);
  const trailerTag = data.readUInt32BE(first.offset);
  const trailerOffset = data.readInt32BE(first.offset + 8);
  const ril = -trailerOffset / ENTRY_SIZE;
  if (trailerTag !== first.tag || !Number.isInteger(ril) || ril < 1 || ril > entries.length) {
    throw bad(`region trailer (tag ${trailerTag}, offset ${trailerOffset}) does not match a region of ${entries.length} entries`);
  }
}

/** Slices of the path list: rpm ≥ 4 stores DIRNAMES + BASENAMES + DIRINDEXES, older headers FILENAMES. */
export function headerFileNames(h: RpmHeader): string[] {
  const base = h.stringArray(RpmTag.BASENAMES);
  if (base) {
    const dirs = h.stringArray(RpmTag.DIRNAMES) ?? [];
    const idx = h.integers(RpmTag.DIRINDEXES) ?? [];
    if (idx.length !== base.length) {
      throw new ClairError('bad-database', `${h.label}: ${base.length} BASENAMES but ${idx.length} DIRINDEXES`);
    }
    const out = new Array<string>(base.length);
    for (let i = 0; i < base.length; i++) {
      const dir = dirs[idx[i]!];
      if (dir === undefined) {
        throw new ClairError('bad-database', `${h.label}: DIRINDEXES[${i}] = ${idx[i]} but there are ${dirs.length} DIRNAMES`);
      }
      out[i] = dir + base[i]!;
    }
    return out;
  }
  return h.stringArray(RpmTag.FILENAMES) ?? [];
}
