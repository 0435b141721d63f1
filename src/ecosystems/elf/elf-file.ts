import { ClairError } from '../../model/errors.ts';

// The parts of an ELF file that language scanners read: section headers (by name) and program headers (to turn a
// virtual address into file bytes). Shared by the Go build-info reader and the cargo-auditable reader.
// Layout: System V gABI, "ELF Header", "Program Header", "Sections" (https://refspecs.linuxfoundation.org/elf/gabi4+/).
// Every offset and size a file claims is checked against the bytes we actually have before it is used, and only the
// regions asked for are read: a header that claims a 4 GiB section costs nothing and reads nothing.

export const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
export const PT_LOAD = 1;
export const PF_X = 1;
export const PF_W = 2;
export const SHT_NOBITS = 8;
/** Beyond this many headers a file is lying (real binaries have tens of sections and around ten segments). */
const MAX_HEADERS = 65535;
const MAX_NAMES = 1024 * 1024;

export interface ElfSection {
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
}

export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
}

/**
 * Random access to a file's bytes. Binaries arrive as the chunks a layer's tar stream produced: reading the few
 * regions ELF readers need straight from those chunks spares copying every executable of an image into one buffer.
 */
export interface ByteSource {
  readonly length: number;
  /** The bytes [offset, offset + length) clipped to the file: a view when they lie in one chunk, else a copy. */
  read(offset: number, length: number): Buffer;
}

/** A ByteSource over chunks kept as they arrived (no copy); reads that straddle chunks copy only what they span. */
export class ChunkedBytes implements ByteSource {
  readonly #chunks: Buffer[];
  readonly #starts: number[] = [];
  readonly length: number;

  constructor(chunks: Buffer[]) {
    this.#chunks = chunks.filter((c) => c.length > 0);
    let at = 0;
    for (const c of this.#chunks) {
      this.#starts.push(at);
      at += c.length;
    }
    this.length = at;
  }

  read(offset: number, length: number): Buffer {
    const begin = Math.max(0, Math.min(offset, this.length));
    const end = Math.max(begin, Math.min(this.length, begin + Math.max(0, length)));
    if (end === begin) return Buffer.alloc(0);
    // The chunk holding `begin`: binary search over chunk start offsets.
    let lo = 0;
    let hi = this.#chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#starts[mid]! <= begin) lo = mid;
      else hi = mid - 1;
    }
    const first = this.#chunks[lo]!;
    const rel = begin - this.#starts[lo]!;
    if (rel + (end - begin) <= first.length) return first.subarray(rel, rel + (end - begin));
    const out = Buffer.allocUnsafe(end - begin);
    let n = 0;
    for (let i = lo; n < out.length; i++) {
      const c = this.#chunks[i]!;
      const from = i === lo ? rel : 0;
      const take = Math.min(c.length - from, out.length - n);
      c.copy(out, n, from, from + take);
      n += take;
    }
    return out;
  }
}

export function asByteSource(data: Buffer | ByteSource): ByteSource {
  return Buffer.isBuffer(data) ? new ChunkedBytes([data]) : data;
}

export interface ElfFile {
  bits: 32 | 64;
  littleEndian: boolean;
  sections: ElfSection[];
  segments: ElfSegment[];
  /** The file's bytes; section and segment data are read from it on demand. */
  bytes: ByteSource;
}

export function isElf(data: Buffer): boolean {
  return data.length >= 4 && data.subarray(0, 4).equals(ELF_MAGIC);
}

function malformed(why: string): ClairError {
  return new ClairError('bad-input', `malformed ELF file: ${why}`);
}

/** Field readers over one region of the file (the header, the program or the section header table). */
function fields(b: Buffer, le: boolean) {
  return {
    u16: (o: number): number => (le ? b.readUInt16LE(o) : b.readUInt16BE(o)),
    u32: (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o)),
    u64: (o: number): number => {
      const v = le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o);
      // Offsets and addresses past 2^53 cannot point into a file; mark them as impossible rather than round them.
      return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
    },
  };
}

/** Parses the headers of an ELF file; throws ClairError('bad-input') when they are inconsistent. */
export function parseElf(input: Buffer | ByteSource): ElfFile {
  const bytes = asByteSource(input);
  const head = bytes.read(0, 64);
  if (!isElf(head)) throw malformed('no ELF magic');
  if (head.length < 52) throw malformed('truncated header');
  const bits = head[4] === 1 ? 32 : head[4] === 2 ? 64 : 0;
  if (bits === 0) throw malformed(`unknown class ${head[4]}`);
  if (head[5] !== 1 && head[5] !== 2) throw malformed(`unknown data encoding ${head[5]}`);
  const le = head[5] === 1;
  if (bits === 64 && head.length < 64) throw malformed('truncated header');
  const h = fields(head, le);

  const phoff = bits === 64 ? h.u64(0x20) : h.u32(0x1c);
  const shoff = bits === 64 ? h.u64(0x28) : h.u32(0x20);
  const at = bits === 64 ? 0x36 : 0x2a;
  const phentsize = h.u16(at);
  let phnum = h.u16(at + 2);
  const shentsize = h.u16(at + 4);
  let shnum = h.u16(at + 6);
  let shstrndx = h.u16(at + 8);
  const shMin = bits === 64 ? 64 : 40;
  const phMin = bits === 64 ? 56 : 32;

  const fits = (off: number, len: number): boolean => off >= 0 && len >= 0 && off <= bytes.length && len <= bytes.length - off;

  // Extended numbering (gABI): counts that do not fit 16 bits live in section header 0.
  if (shoff !== 0 && shentsize >= shMin && fits(shoff, shentsize)) {
    const s0 = fields(bytes.read(shoff, shentsize), le);
    if (shnum === 0) shnum = bits === 64 ? s0.u64(0x20) : s0.u32(0x14);
    if (shstrndx === 0xffff) shstrndx = s0.u32(bits === 64 ? 0x28 : 0x18);
    if (phnum === 0xffff) phnum = s0.u32(bits === 64 ? 0x2c : 0x1c);
  }

  const segments: ElfSegment[] = [];
  if (phoff !== 0 && phnum > 0) {
    if (phentsize < phMin || phnum > MAX_HEADERS || !fits(phoff, phnum * phentsize)) {
      throw malformed(`program headers (${phnum} × ${phentsize} bytes at ${phoff}) lie outside the file`);
    }
    const p = fields(bytes.read(phoff, phnum * phentsize), le);
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      segments.push(
        bits === 64
          ? { type: p.u32(o), flags: p.u32(o + 4), offset: p.u64(o + 8), vaddr: p.u64(o + 16), filesz: p.u64(o + 32) }
          : { type: p.u32(o), offset: p.u32(o + 4), vaddr: p.u32(o + 8), filesz: p.u32(o + 16), flags: p.u32(o + 24) },
      );
    }
  }

  const raw: (ElfSection & { nameOff: number })[] = [];
  // Stripped binaries may have no section headers at all (sstrip, some packers): segments still work.
  if (shoff !== 0 && shnum > 0) {
    if (shentsize < shMin || shnum > MAX_HEADERS || !fits(shoff, shnum * shentsize)) {
      throw malformed(`section headers (${shnum} × ${shentsize} bytes at ${shoff}) lie outside the file`);
    }
    const t = fields(bytes.read(shoff, shnum * shentsize), le);
    for (let i = 0; i < shnum; i++) {
      const o = i * shentsize;
      raw.push({
        nameOff: t.u32(o),
        name: '',
        type: t.u32(o + 4),
        flags: bits === 64 ? t.u64(o + 8) : t.u32(o + 8),
        addr: bits === 64 ? t.u64(o + 16) : t.u32(o + 12),
        offset: bits === 64 ? t.u64(o + 24) : t.u32(o + 16),
        size: bits === 64 ? t.u64(o + 32) : t.u32(o + 20),
      });
    }
    const strtab = raw[shstrndx];
    // Section names of real binaries take a few hundred bytes; a table claiming more than MAX_NAMES is ignored.
    if (strtab && strtab.type !== SHT_NOBITS && strtab.size <= MAX_NAMES && fits(strtab.offset, strtab.size)) {
      const names = bytes.read(strtab.offset, strtab.size);
      for (const s of raw) {
        if (s.nameOff >= names.length) continue;
        const end = names.indexOf(0, s.nameOff);
        s.name = names.toString('latin1', s.nameOff, end < 0 ? names.length : end);
      }
    }
  }
  const sections = raw.map(({ nameOff: _, ...s }) => s);
  return { bits, littleEndian: le, sections, segments, bytes };
}

export function findSection(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}

/** A section's bytes; throws when the section claims bytes the file does not have, or more than `max`. */
export function sectionData(elf: ElfFile, section: ElfSection, max: number): Buffer {
  if (section.type === SHT_NOBITS) return Buffer.alloc(0);
  const { offset, size } = section;
  const length = elf.bytes.length;
  if (offset > length || size > length - offset) {
    throw malformed(`section ${section.name} claims ${size} bytes at offset ${offset}, past the end of the ${length}-byte file`);
  }
  if (size > max) throw malformed(`section ${section.name} claims ${size} bytes, over the ${max}-byte limit`);
  return elf.bytes.read(offset, size);
}

/**
 * Up to `size` bytes at virtual address `addr`, from the first segment that maps it (as Go's debug/buildinfo does);
 * undefined when no segment maps it or the segment claims bytes the file does not have.
 */
export function readVirtual(elf: ElfFile, addr: number, size: number): Buffer | undefined {
  for (const p of elf.segments) {
    if (p.filesz === 0 || addr < p.vaddr || addr - p.vaddr >= p.filesz) continue;
    const n = Math.min(p.filesz - (addr - p.vaddr), size);
    const start = p.offset + (addr - p.vaddr);
    if (start > elf.bytes.length || n > elf.bytes.length - start) return undefined;
    return elf.bytes.read(start, n);
  }
  return undefined;
}
