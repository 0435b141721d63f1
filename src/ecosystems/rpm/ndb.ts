import { ClairError } from '../../model/errors.ts';
import type { StoredHeader } from './header.ts';

// rpm's "ndb" package store, Packages.db (SUSE since 15 SP3 / openSUSE): rpm's own format from lib/backend/ndb/rpmpkg.c.
// All integers are little-endian. A 32-byte file header ("RpmP", version 0, generation, slot page count, next package
// index) is followed by slot pages of 16-byte slots ("Slot", package index, block offset, block count); a slot points
// at a blob of 16-byte blocks: "BlbS" head (package index, generation, length), the header blob, padding, and a
// "BlbE" tail (adler32 of head + blob + padding, length). Only the package file is read; the Index.db indexes are not needed.

const PAGE_SIZE = 4096;
const DB_HEADER = 32;
const SLOT_SIZE = 16;
const BLOCK = 16;
const BLOB_HEAD = 16;
const BLOB_TAIL = 12;
const MAGIC_DB = 0x506d7052; // "RpmP" read little-endian
const MAGIC_SLOT = 0x746f6c53; // "Slot"
const MAGIC_HEAD = 0x53626c42; // "BlbS"
const MAGIC_TAIL = 0x45626c42; // "BlbE"

export function isNdb(data: Buffer): boolean {
  return data.length >= 4 && data.readUInt32LE(0) === MAGIC_DB;
}

export function readNdbHeaders(data: Buffer, path: string): StoredHeader[] {
  const bad = (msg: string) => new ClairError('bad-database', `${path}: ndb: ${msg}`);
  if (data.length < DB_HEADER || !isNdb(data)) throw bad('no "RpmP" magic');
  const version = data.readUInt32LE(4);
  if (version !== 0) throw new ClairError('unsupported', `${path}: ndb version ${version} (want 0)`);
  const slotPages = data.readUInt32LE(12);
  if (slotPages < 1 || slotPages * PAGE_SIZE > data.length) {
    throw bad(`header says ${slotPages} slot pages of ${PAGE_SIZE} bytes but the file has ${data.length} bytes (truncated?)`);
  }

  const out: StoredHeader[] = [];
  const seen = new Set<number>();
  const slotsEnd = slotPages * PAGE_SIZE;
  for (let off = DB_HEADER; off < slotsEnd; off += SLOT_SIZE) {
    if (data.readUInt32LE(off) !== MAGIC_SLOT) throw bad(`slot at ${off} has no "Slot" magic`);
    const pkgIdx = data.readUInt32LE(off + 4);
    const blkOff = data.readUInt32LE(off + 8);
    const blkCnt = data.readUInt32LE(off + 12);
    if (pkgIdx === 0 || blkOff === 0) continue; // a free slot
    const where = `package #${pkgIdx} (slot at ${off})`;
    const start = blkOff * BLOCK;
    const size = blkCnt * BLOCK;
    if (size < BLOB_HEAD + BLOB_TAIL || start < slotsEnd || start + size > data.length) {
      throw bad(`${where}: blob of ${blkCnt} blocks at block ${blkOff} lies outside the ${data.length}-byte file`);
    }
    if (seen.has(pkgIdx)) throw bad(`${where}: package index used by two slots`);
    seen.add(pkgIdx);
    if (data.readUInt32LE(start) !== MAGIC_HEAD) throw bad(`${where}: blob has no "BlbS" magic`);
    if (data.readUInt32LE(start + 4) !== pkgIdx) throw bad(`${where}: blob belongs to package #${data.readUInt32LE(start + 4)}`);
    const len = data.readUInt32LE(start + 12);
    if (len > size - BLOB_HEAD - BLOB_TAIL) throw bad(`${where}: blob length ${len} exceeds its ${size}-byte slot`);
    const tail = start + size - BLOB_TAIL;
    if (data.readUInt32LE(tail + 8) !== MAGIC_TAIL) throw bad(`${where}: blob has no "BlbE" tail`);
    if (data.readUInt32LE(tail + 4) !== len) throw bad(`${where}: tail length ${data.readUInt32LE(tail + 4)} differs from head length ${len}`);
    const sum = adler32(data, start, tail);
    if (sum !== data.readUInt32LE(tail)) throw bad(`${where}: adler32 ${hex(sum)} differs from the stored ${hex(data.readUInt32LE(tail))}`);
    out.push({ hnum: pkgIdx, blob: data.subarray(start + BLOB_HEAD, start + BLOB_HEAD + len) });
  }
  out.sort((a, b) => a.hnum - b.hnum);
  return out;
}

// RFC 1950 adler32; sums are reduced every 5552 bytes, the most that cannot overflow 2^53 arithmetic by far.
function adler32(d: Buffer, from: number, to: number): number {
  let a = 1;
  let b = 0;
  for (let i = from; i < to; ) {
    const stop = Math.min(to, i + 5552);
    for (; i < stop; i++) {
      a += d[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}
