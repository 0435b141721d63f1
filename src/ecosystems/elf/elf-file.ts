import { ClairError } from '../../model/errors.ts';

// The parts of an ELF file that language scanners read: section headers (by name) and program headers (to turn a
// virtual address into file bytes). Shared by the Go build-info reader and the cargo-auditable reader.
// Layout: System V gABI, "ELF Header", "Program Header", "Sections" (https://refspecs.linuxfoundation.org/elf/gabi4+/).
// Every offset and size a file claims is checked against the bytes we actually have before it is used, and data is
// returned as views into the given buffer: a header that claims a 4 GiB section costs nothing and reads nothing.

export const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
export const PT_LOAD = 1;
export const PF_X = 1;
export const PF_W = 2;
export const SHT_NOBITS = 8;
/** Beyond this many headers a file is lying (real binaries have tens of sections and around ten segments). */
const MAX_HEADERS = 65535;

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

export interface ElfFile {
  bits: 32 | 64;
  littleEndian: boolean;
  sections: ElfSection[];
  segments: ElfSegment[];
  /** The file's bytes (or a prefix of them); section and segment data are views into it. */
  data: Buffer;
}

export function isElf(data: Buffer): boolean {
  return data.length >= 4 && data.subarray(0, 4).equals(ELF_MAGIC);
}

function malformed(why: string): ClairError {
  return new ClairError('bad-input', `malformed ELF file: ${why}`);
}

/** Parses the headers of an ELF file held in `data`; throws ClairError('bad-input') when they are inconsistent. */
export function parseElf(data: Buffer): ElfFile {
  if (!isElf(data)) throw malformed('no ELF magic');
  if (data.length < 52) throw malformed('truncated header');
  const bits = data[4] === 1 ? 32 : data[4] === 2 ? 64 : 0;
  if (bits === 0) throw malformed(`unknown class ${data[4]}`);
  if (data[5] !== 1 && data[5] !== 2) throw malformed(`unknown data encoding ${data[5]}`);
  const le = data[5] === 1;
  const u16 = (o: number): number => (le ? data.readUInt16LE(o) : data.readUInt16BE(o));
  const u32 = (o: number): number => (le ? data.readUInt32LE(o) : data.readUInt32BE(o));
  const u64 = (o: number): number => {
    const v = le ? data.readBigUInt64LE(o) : data.readBigUInt64BE(o);
    // Offsets and addresses past 2^53 cannot point into a buffer; mark them as impossible rather than round them.
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  };
  const word = bits === 64 ? u64 : u32;
  if (bits === 64 && data.length < 64) throw malformed('truncated header');

  const phoff = bits === 64 ? u64(0x20) : u32(0x1c);
  const shoff = bits === 64 ? u64(0x28) : u32(0x20);
  const h = bits === 64 ? 0x36 : 0x2a;
  const phentsize = u16(h);
  let phnum = u16(h + 2);
  const shentsize = u16(h + 4);
  let shnum = u16(h + 6);
  let shstrndx = u16(h + 8);
  const shMin = bits === 64 ? 64 : 40;
  const phMin = bits === 64 ? 56 : 32;

  const fits = (off: number, len: number): boolean => off >= 0 && len >= 0 && off <= data.length && len <= data.length - off;

  // Extended numbering (gABI): counts that do not fit 16 bits live in section header 0.
  if (shoff !== 0 && shentsize >= shMin && fits(shoff, shentsize)) {
    if (shnum === 0) shnum = bits === 64 ? u64(shoff + 0x20) : u32(shoff + 0x14);
    if (shstrndx === 0xffff) shstrndx = u32(shoff + (bits === 64 ? 0x28 : 0x18));
    if (phnum === 0xffff) phnum = u32(shoff + (bits === 64 ? 0x2c : 0x1c));
  }

  const segments: ElfSegment[] = [];
  if (phoff !== 0 && phnum > 0) {
    if (phentsize < phMin || phnum > MAX_HEADERS || !fits(phoff, phnum * phentsize)) {
      throw malformed(`program headers (${phnum} × ${phentsize} bytes at ${phoff}) lie outside the file`);
    }
    for (let i = 0; i < phnum; i++) {
      const o = phoff + i * phentsize;
      segments.push(
        bits === 64
          ? { type: u32(o), flags: u32(o + 4), offset: u64(o + 8), vaddr: u64(o + 16), filesz: u64(o + 32) }
          : { type: u32(o), offset: u32(o + 4), vaddr: u32(o + 8), filesz: u32(o + 16), flags: u32(o + 24) },
      );
    }
  }

  const raw: (ElfSection & { nameOff: number })[] = [];
  // Stripped binaries may have no section headers at all (sstrip, some packers): segments still work.
  if (shoff !== 0 && shnum > 0) {
    if (shentsize < shMin || shnum > MAX_HEADERS || !fits(shoff, shnum * shentsize)) {
      throw malformed(`section headers (${shnum} × ${shentsize} bytes at ${shoff}) lie outside the file`);
    }
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * shentsize;
      raw.push({
        nameOff: u32(o),
        name: '',
        type: u32(o + 4),
        flags: word(o + 8),
        addr: bits === 64 ? u64(o + 16) : u32(o + 12),
        offset: bits === 64 ? u64(o + 24) : u32(o + 16),
        size: bits === 64 ? u64(o + 32) : u32(o + 20),
      });
    }
    const strtab = raw[shstrndx];
    if (strtab && strtab.type !== SHT_NOBITS && fits(strtab.offset, strtab.size)) {
      const names = data.subarray(strtab.offset, strtab.offset + strtab.size);
      for (const s of raw) {
        if (s.nameOff >= names.length) continue;
        const end = names.indexOf(0, s.nameOff);
        s.name = names.toString('latin1', s.nameOff, end < 0 ? names.length : end);
      }
    }
  }
  const sections = raw.map(({ nameOff: _, ...s }) => s);
  return { bits, littleEndian: le, sections, segments, data };
}

export function findSection(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}

/** A section's bytes as a view; throws when the section claims bytes the file does not have. */
export function sectionData(elf: ElfFile, section: ElfSection): Buffer {
  if (section.type === SHT_NOBITS) return Buffer.alloc(0);
  const { offset, size } = section;
  if (offset > elf.data.length || size > elf.data.length - offset) {
    throw malformed(`section ${section.name} claims ${size} bytes at offset ${offset}, past the end of the ${elf.data.length}-byte file`);
  }
  return elf.data.subarray(offset, offset + size);
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
    if (start > elf.data.length || n > elf.data.length - start) return undefined;
    return elf.data.subarray(start, start + n);
  }
  return undefined;
}
