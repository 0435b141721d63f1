import { ClairError } from '../../model/errors.ts';
import type { StoredHeader } from './header.ts';

// rpm's Berkeley DB "Packages" file (RHEL ≤ 8, CentOS, Amazon Linux 2, old Fedora/SUSE): a BDB hash database whose
// keys are header numbers and whose values are header blobs. Read-only, in the spirit of rpm's own bdb_ro backend:
// walk every page, take key/value pairs from the hash pages, follow overflow chains for large values.
// Layout: Berkeley DB 4.x/5.x dbinc/db_page.h (DBMETA, HMETA, PAGE, HKEYDATA, HOFFPAGE).

const BDB_HASH_MAGIC = 0x061561;

const P_HASH_UNSORTED = 2;
const P_OVERFLOW = 7;
const P_HASHMETA = 8;
const P_HASH = 13;
const H_KEYDATA = 1;
const H_DUPLICATE = 2;
const H_OFFPAGE = 3;
const H_OFFDUP = 4;
const PAGE_HEADER = 26; // sizeof(PAGE): lsn 8, pgno 4, prev 4, next 4, entries 2, hf_offset 2, level 1, type 1
const DBMETA_CHKSUM = 0x01;

/** The byte order of a BDB hash file, from the magic at offset 12; undefined when it is not one. */
export function bdbHashByteOrder(data: Buffer): 'le' | 'be' | undefined {
  if (data.length < 16) return undefined;
  if (data.readUInt32LE(12) === BDB_HASH_MAGIC) return 'le';
  if (data.readUInt32BE(12) === BDB_HASH_MAGIC) return 'be';
  return undefined;
}

export function readBdbHeaders(data: Buffer, path: string): StoredHeader[] {
  const bad = (msg: string) => new ClairError('bad-database', `${path}: Berkeley DB: ${msg}`);
  const order = bdbHashByteOrder(data);
  if (!order) throw bad('no hash database magic (0x061561) at offset 12');
  if (data.length < 512) throw bad(`${data.length} bytes, too short for a metadata page`);
  const le = order === 'le';
  const u32 = (off: number) => (le ? data.readUInt32LE(off) : data.readUInt32BE(off));
  const u16 = (off: number) => (le ? data.readUInt16LE(off) : data.readUInt16BE(off));

  const version = u32(16);
  const pageSize = u32(20);
  const encryptAlg = data[24]!;
  const metaType = data[25]!;
  const metaFlags = data[26]!;
  const lastPgno = u32(32);
  if (version < 8 || version > 10) throw new ClairError('unsupported', `${path}: Berkeley DB hash version ${version} (want 8–10)`);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) throw bad(`page size ${pageSize} is not a power of two in 512..65536`);
  if (metaType !== P_HASHMETA) throw bad(`metadata page has type ${metaType}, want ${P_HASHMETA} (hash meta)`);
  if (encryptAlg !== 0) throw new ClairError('unsupported', `${path}: Berkeley DB is encrypted (algorithm ${encryptAlg})`);
  // Checksummed databases put a checksum after the page header and move the item index; rpm never creates them.
  if (metaFlags & DBMETA_CHKSUM) throw new ClairError('unsupported', `${path}: Berkeley DB has page checksums`);
  const pages = lastPgno + 1;
  if (pages * pageSize > data.length) {
    throw bad(`metadata says ${pages} pages of ${pageSize} bytes but the file has ${data.length} bytes (truncated?)`);
  }

  // An overflow chain: P_OVERFLOW pages linked by next_pgno, each holding hf_offset bytes after the page header.
  const readOverflow = (start: number, total: number, where: string): Buffer => {
    const parts: Buffer[] = [];
    const seen = new Set<number>();
    let got = 0;
    for (let pg = start; pg !== 0; ) {
      if (pg > lastPgno) throw bad(`${where}: overflow page ${pg} beyond last page ${lastPgno}`);
      if (seen.has(pg)) throw bad(`${where}: overflow chain loops back to page ${pg}`);
      seen.add(pg);
      const off = pg * pageSize;
      if (data[off + 25] !== P_OVERFLOW) throw bad(`${where}: page ${pg} in an overflow chain has type ${data[off + 25]}`);
      const len = u16(off + 22);
      if (PAGE_HEADER + len > pageSize) throw bad(`${where}: overflow page ${pg} claims ${len} bytes`);
      got += len;
      if (got > total) throw bad(`${where}: overflow chain holds more than the ${total} bytes announced`);
      parts.push(data.subarray(off + PAGE_HEADER, off + PAGE_HEADER + len));
      pg = u32(off + 16);
    }
    if (got !== total) throw bad(`${where}: overflow chain ends after ${got} of ${total} bytes`);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
  };

  const out: StoredHeader[] = [];
  const seenKeys = new Set<number>();
  for (let pg = 1; pg <= lastPgno; pg++) {
    const off = pg * pageSize;
    const type = data[off + 25];
    if (type !== P_HASH && type !== P_HASH_UNSORTED) continue;
    const entries = u16(off + 20);
    const indexEnd = PAGE_HEADER + 2 * entries;
    if (entries % 2 !== 0 || indexEnd > pageSize) throw bad(`hash page ${pg} has ${entries} items`);
    // Item i spans from its offset to the previous item's offset (items are packed from the end of the page down).
    const item = (i: number): { at: number; len: number } => {
      const start = u16(off + PAGE_HEADER + 2 * i);
      const end = i === 0 ? pageSize : u16(off + PAGE_HEADER + 2 * (i - 1));
      if (start < indexEnd || end > pageSize || end <= start) throw bad(`hash page ${pg} item ${i} spans ${start}..${end}`);
      return { at: off + start, len: end - start };
    };
    for (let i = 0; i < entries; i += 2) {
      const k = item(i);
      if (data[k.at] !== H_KEYDATA) throw bad(`hash page ${pg} key ${i / 2} has item type ${data[k.at]}`);
      if (k.len !== 5) throw bad(`hash page ${pg} key ${i / 2} is ${k.len - 1} bytes, want a 4-byte header number`);
      const hnum = u32(k.at + 1); // rpm writes header numbers in the creating host's order, as BDB does its metadata
      const v = item(i + 1);
      const vtype = data[v.at];
      let blob: Buffer;
      if (vtype === H_KEYDATA) {
        blob = data.subarray(v.at + 1, v.at + v.len);
      } else if (vtype === H_OFFPAGE) {
        if (v.len < 12) throw bad(`hash page ${pg} item ${i + 1}: off-page reference of ${v.len} bytes`);
        blob = readOverflow(u32(v.at + 4), u32(v.at + 8), `record #${hnum} (page ${pg})`);
      } else if (vtype === H_DUPLICATE || vtype === H_OFFDUP) {
        throw bad(`hash page ${pg}: record #${hnum} has duplicate values, which rpm never writes`);
      } else {
        throw bad(`hash page ${pg} item ${i + 1} has unknown type ${vtype}`);
      }
      // Record 0 is rpm's counter of the next header number, not a header.
      if (hnum === 0) continue;
      if (seenKeys.has(hnum)) throw bad(`record #${hnum} appears twice`);
      seenKeys.add(hnum);
      out.push({ hnum, blob });
    }
  }
  out.sort((a, b) => a.hnum - b.hnum);
  return out;
}
