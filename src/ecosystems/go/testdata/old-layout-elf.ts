// Generates, at test time, a minimal ELF executable carrying Go build info in the pre-1.18 layout (pointers to Go
// string headers instead of inline strings), which the installed Go (≥ 1.18) can no longer produce. Real Go reads
// it back (`go version -m`), which is how the tests know the generated file is faithful.
// Layout (cmd/link/internal/ld/data.go of Go 1.12–1.17): a 32-byte blob "\xff Go buildinf:" + ptrSize + endianness,
// then the addresses of runtime.buildVersion and runtime.modinfo, each a {data pointer, length} string header.

const BASE = 0x10000;
// The sentinels cmd/go wraps the module text in (modload.infoStart / infoEnd); readers only check their length.
const INFO_START = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
const INFO_END = Buffer.from('f932433186182072008242104116d8f2', 'hex');

export function oldLayoutElf(opts: { bits: 32 | 64; bigEndian: boolean; goVersion: string; modText: string }): Buffer {
  const { bits, bigEndian: be } = opts;
  const ptr = bits / 8;
  const version = Buffer.from(opts.goVersion, 'utf8');
  const mod = opts.modText === '' ? Buffer.alloc(0) : Buffer.concat([INFO_START, Buffer.from(opts.modText, 'utf8'), INFO_END]);
  const blobAt = 0x100;
  const hdrAt = 0x140;
  const versionAt = 0x180;
  const modAt = versionAt + version.length;
  const size = modAt + mod.length;
  const b = Buffer.alloc(size);
  const u16 = (v: number, o: number): void => void (be ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
  const u32 = (v: number, o: number): void => void (be ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o));
  const word = (v: number, o: number): void => {
    if (bits === 32) u32(v, o);
    else if (be) b.writeBigUInt64BE(BigInt(v), o);
    else b.writeBigUInt64LE(BigInt(v), o);
  };

  b.set([0x7f, 0x45, 0x4c, 0x46, bits === 64 ? 2 : 1, be ? 2 : 1, 1], 0);
  u16(2, 16); // ET_EXEC
  u16(bits === 64 ? 62 : 8, 18); // x86-64 / MIPS
  u32(1, 20); // EV_CURRENT
  const ehsize = bits === 64 ? 64 : 52;
  if (bits === 64) {
    word(BASE, 24); // e_entry
    word(ehsize, 32); // e_phoff
    word(0, 40); // e_shoff: no section headers, like a stripped binary
    u16(ehsize, 52);
    u16(56, 54); // e_phentsize
    u16(1, 56); // e_phnum
    u16(64, 58);
    // program header: PT_LOAD, PF_R|PF_W, offset 0, vaddr=paddr=BASE, filesz=memsz=size, align 0x1000
    const o = ehsize;
    u32(1, o);
    u32(6, o + 4);
    word(0, o + 8);
    word(BASE, o + 16);
    word(BASE, o + 24);
    word(size, o + 32);
    word(size, o + 40);
    word(0x1000, o + 48);
  } else {
    u32(BASE, 24);
    u32(ehsize, 28);
    u32(0, 32);
    u16(ehsize, 40);
    u16(32, 42);
    u16(1, 44);
    u16(40, 46);
    const o = ehsize;
    u32(1, o);
    u32(0, o + 4);
    u32(BASE, o + 8);
    u32(BASE, o + 12);
    u32(size, o + 16);
    u32(size, o + 20);
    u32(6, o + 24);
    u32(0x1000, o + 28);
  }

  b.write('\xff Go buildinf:', blobAt, 'latin1');
  b[blobAt + 14] = ptr;
  b[blobAt + 15] = be ? 1 : 0;
  word(BASE + hdrAt, blobAt + 16);
  word(BASE + hdrAt + 2 * ptr, blobAt + 16 + ptr);
  word(BASE + versionAt, hdrAt);
  word(version.length, hdrAt + ptr);
  word(BASE + modAt, hdrAt + 2 * ptr);
  word(mod.length, hdrAt + 3 * ptr);
  version.copy(b, versionAt);
  mod.copy(b, modAt);
  return b;
}
