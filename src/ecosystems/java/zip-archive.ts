import { inflateRawSync } from 'node:zlib';
import { ClairError } from '../../model/errors.ts';

// A read-only zip reader over a Buffer, for Java archives: the central directory (PKWARE APPNOTE.TXT §4.3.12–16,
// incl. ZIP64 §4.3.14–15 and extra field 0x0001), then single entries on demand through their local headers.
// Why not a library: yauzl works on files and streams with its own buffering, fflate's unzip inflates every entry
// it is not told to skip and has no per-entry output cap. A jar scanner reads a handful of small entries
// (pom.properties, MANIFEST.MF) and the nested archives; it needs exact bounds on what each inflation may produce
// (zip bombs), views instead of copies for stored entries (Spring Boot and WAR libraries are usually stored), and
// tolerance of a prefix before the zip (self-executing jars). That is ~150 lines over node:zlib's inflateRaw with
// maxOutputLength, which stops a bomb at the cap instead of after it has been inflated.

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
/** Beyond this many entries a central directory is hostile (the largest real jars have ~100k). */
const MAX_ENTRIES = 1_000_000;

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  /** Offset of the local header, already shifted by any prefix before the archive. */
  localOffset: number;
}

export class ZipError extends ClairError {
  constructor(message: string) {
    super('bad-input', message);
  }
}

export interface ZipArchive {
  data: Buffer;
  entries: ZipEntry[];
}

function findEocd(b: Buffer): number {
  const min = Math.max(0, b.length - 22 - 0xffff);
  for (let i = b.length - 22; i >= min; i--) {
    if (b.readUInt32LE(i) === EOCD_SIG && i + 22 + b.readUInt16LE(i + 20) <= b.length) return i;
  }
  return -1;
}

/** Reads the central directory; throws ZipError when the bytes are not a zip or its directory lies. */
export function openZip(data: Buffer): ZipArchive {
  const eocd = data.length >= 22 ? findEocd(data) : -1;
  if (eocd < 0) throw new ZipError('not a zip archive (no end of central directory record)');
  let count = data.readUInt16LE(eocd + 10);
  let cdSize = data.readUInt32LE(eocd + 12);
  let cdOffset = data.readUInt32LE(eocd + 16);
  let cdEnd = eocd;
  if ((count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) && eocd >= 20 && data.readUInt32LE(eocd - 20) === ZIP64_LOCATOR_SIG) {
    const at = Number(data.readBigUInt64LE(eocd - 20 + 8));
    // The ZIP64 record's own offset is relative to the archive start; a prefix shifts it by a fixed amount.
    const z = findZip64Eocd(data, at, eocd - 20);
    if (z < 0) throw new ZipError('ZIP64 end of central directory record not found');
    count = safe(data.readBigUInt64LE(z + 32));
    cdSize = safe(data.readBigUInt64LE(z + 40));
    cdOffset = safe(data.readBigUInt64LE(z + 48));
    cdEnd = z;
  }
  if (count > MAX_ENTRIES) throw new ZipError(`central directory claims ${count} entries`);
  // Bytes before the archive (a launcher script on a self-executing jar) shift every offset by the same amount.
  const shift = cdEnd - cdSize - cdOffset;
  const start = cdOffset + shift;
  if (shift < 0 || start < 0 || start + cdSize > data.length) throw new ZipError('central directory lies outside the file');
  const entries: ZipEntry[] = [];
  let p = start;
  for (let i = 0; i < count; i++) {
    if (p + 46 > data.length || data.readUInt32LE(p) !== CENTRAL_SIG) throw new ZipError(`central directory entry ${i} is corrupt`);
    const flags = data.readUInt16LE(p + 8);
    const method = data.readUInt16LE(p + 10);
    let compressedSize = data.readUInt32LE(p + 20);
    let size = data.readUInt32LE(p + 24);
    const nameLen = data.readUInt16LE(p + 28);
    const extraLen = data.readUInt16LE(p + 30);
    const commentLen = data.readUInt16LE(p + 32);
    let localOffset = data.readUInt32LE(p + 42);
    if (p + 46 + nameLen + extraLen + commentLen > data.length) throw new ZipError(`central directory entry ${i} runs past the end`);
    // Names are UTF-8 when flag bit 11 is set, else CP437; Java writes UTF-8 either way and paths are ASCII in practice.
    const name = data.toString('utf8', p + 46, p + 46 + nameLen);
    // ZIP64 extended information: the 64-bit values of the fields saturated to 0xffffffff, in this order.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = data.readUInt16LE(e);
      const len = data.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        const next = (): number => {
          if (q + 8 > e + 4 + len) throw new ZipError(`entry ${name}: short ZIP64 extra field`);
          const v = safe(data.readBigUInt64LE(q));
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localOffset === 0xffffffff) localOffset = next();
      }
      e += 4 + len;
    }
    entries.push({ name, method, flags, compressedSize, size, localOffset: localOffset + shift });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return { data, entries };
}

function findZip64Eocd(b: Buffer, claimed: number, before: number): number {
  if (claimed + 56 <= before && b.readUInt32LE(claimed) === ZIP64_EOCD_SIG) return claimed;
  // With a prefix the claimed offset is too small; the record sits right before its locator (no extensible data).
  const at = before - 56;
  return at >= 0 && b.readUInt32LE(at) === ZIP64_EOCD_SIG ? at : -1;
}

function safe(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/**
 * An entry's bytes: a view for stored entries, an inflated copy of at most `maxSize` bytes for deflated ones.
 * Throws ZipError for encrypted entries, unknown methods, lies about sizes, and output over `maxSize`.
 */
export function readEntry(zip: ZipArchive, entry: ZipEntry, maxSize: number): Buffer {
  const { data } = zip;
  const lo = entry.localOffset;
  if (lo < 0 || lo + 30 > data.length || data.readUInt32LE(lo) !== LOCAL_SIG) throw new ZipError(`entry ${entry.name}: local header missing`);
  if (entry.flags & 1) throw new ZipError(`entry ${entry.name} is encrypted`);
  const begin = lo + 30 + data.readUInt16LE(lo + 26) + data.readUInt16LE(lo + 28);
  if (begin + entry.compressedSize > data.length) throw new ZipError(`entry ${entry.name} runs past the end of the archive`);
  const raw = data.subarray(begin, begin + entry.compressedSize);
  if (entry.method === 0) {
    if (raw.length > maxSize) throw new ZipError(`entry ${entry.name} is ${raw.length} bytes, over the ${maxSize}-byte limit`);
    return raw;
  }
  if (entry.method !== 8) throw new ZipError(`entry ${entry.name} uses compression method ${entry.method}`);
  try {
    return inflateRawSync(raw, { maxOutputLength: maxSize });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ZipError(`entry ${entry.name} inflates past the ${maxSize}-byte limit (zip bomb?)`);
    }
    throw new ZipError(`entry ${entry.name} does not inflate: ${(e as Error).message}`);
  }
}
