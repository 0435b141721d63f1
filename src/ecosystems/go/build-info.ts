import { findSection, parseElf, readVirtual, PF_W, PF_X, PT_LOAD, type ByteSource, type ElfFile } from '../elf/elf-file.ts';

// Module build information embedded in Go binaries, read the way Go's own debug/buildinfo and runtime/debug do
// (src/debug/buildinfo/buildinfo.go, src/runtime/debug/mod.go in golang/go):
// - the blob starts with "\xff Go buildinf:" at a 16-byte aligned address, in the .go.buildinfo section or, when the
//   section headers are gone (stripped binaries), near the start of the first writable, non-executable segment;
// - byte 14 is the pointer size, byte 15 holds flags: bit 1 = big endian, bit 2 = strings inline (Go ≥ 1.18);
// - Go ≥ 1.18: the toolchain version and the module text follow the 32-byte header as uvarint-prefixed strings;
//   Go 1.12–1.17: two pointers to Go string headers {data pointer, length}, resolved through the program headers;
// - the module text is framed by 16-byte sentinels and holds tab-separated lines `path`, `mod`, `dep`, `=>`, `build`.

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const ALIGN = 16;
const HEADER_SIZE = 32;
const SEARCH_SIZE = 64 * 1024;
/** Far above any real module list (kubectl's is ~20 KB); a larger claim is a corrupt or hostile binary. */
const MAX_STRING = 16 * 1024 * 1024;

export interface GoModule {
  path: string;
  version: string;
  sum: string;
  replace?: GoModule;
}

export interface GoBuildInfo {
  /** The toolchain as `runtime.Version()` reports it, e.g. `go1.22.3` or `go1.21.0 X:boringcrypto`. */
  goVersion: string;
  /** The main package's import path (`path` line); may be set without module information (GOPATH builds). */
  path: string;
  main?: GoModule;
  deps: GoModule[];
  settings: { key: string; value: string }[];
}

/** The raw (toolchain version, module text) pair, or undefined when the ELF file carries no Go build info. */
export function readRawBuildInfo(elf: ElfFile): { goVersion: string; modInfo: string } | undefined {
  const section = findSection(elf, '.go.buildinfo');
  let dataAddr: number | undefined = section?.addr;
  if (dataAddr === undefined) {
    dataAddr = elf.segments.find((p) => p.type === PT_LOAD && (p.flags & (PF_X | PF_W)) === PF_W)?.vaddr;
  }
  if (dataAddr === undefined) return undefined;
  const data = readVirtual(elf, dataAddr, SEARCH_SIZE);
  if (!data) return undefined;

  let at = -1;
  for (let i = data.indexOf(MAGIC); i >= 0 && data.length - i >= HEADER_SIZE; i = data.indexOf(MAGIC, i + 1)) {
    if (i % ALIGN === 0) {
      at = i;
      break;
    }
  }
  if (at < 0) return undefined;
  const blob = data.subarray(at);
  const ptrSize = blob[14] ?? 0;
  const flags = blob[15] ?? 0;
  let goVersion: string;
  let modInfo: string;
  if (flags & 2) {
    let rest = blob.subarray(HEADER_SIZE);
    const v = decodeString(rest);
    goVersion = v.value;
    rest = v.rest;
    modInfo = decodeString(rest).value;
  } else {
    if (ptrSize !== 4 && ptrSize !== 8) return undefined;
    const big = flags !== 0;
    const readPtr = (b: Buffer, o: number): number => {
      if (ptrSize === 4) return big ? b.readUInt32BE(o) : b.readUInt32LE(o);
      const v = big ? b.readBigUInt64BE(o) : b.readBigUInt64LE(o);
      return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
    };
    const readString = (addr: number): string => {
      const hdr = readVirtual(elf, addr, 2 * ptrSize);
      if (!hdr || hdr.length < 2 * ptrSize) return '';
      const strAddr = readPtr(hdr, 0);
      const len = readPtr(hdr, ptrSize);
      if (len > MAX_STRING) return '';
      const s = readVirtual(elf, strAddr, len);
      return s && s.length === len ? s.toString('utf8') : '';
    };
    goVersion = readString(readPtr(blob, 16));
    modInfo = readString(readPtr(blob, 16 + ptrSize));
  }
  if (goVersion === '') return undefined;
  // Strip the sentinels that frame the module text (cmd/go's infoStart/infoEnd); anything else is not module info.
  modInfo = modInfo.length >= 33 && modInfo[modInfo.length - 17] === '\n' ? modInfo.slice(16, -16) : '';
  return { goVersion, modInfo };
}

function decodeString(b: Buffer): { value: string; rest: Buffer } {
  // Unsigned varint (encoding/binary.Uvarint); lengths above MAX_STRING or past the buffer mean "no string".
  let len = 0;
  let n = 0;
  let done = false;
  while (n < b.length && n < 10 && !done) {
    const byte = b[n]!;
    len += (byte & 0x7f) * 2 ** (7 * n);
    done = byte < 0x80;
    n++;
  }
  if (!done) return { value: '', rest: Buffer.alloc(0) };
  if (n > b.length || len > MAX_STRING || len >= b.length - n) return { value: '', rest: Buffer.alloc(0) };
  return { value: b.toString('utf8', n, n + len), rest: b.subarray(n + len) };
}

/** runtime/debug.ParseBuildInfo's reading of the module text; tolerant: unknown or short lines are skipped. */
export function parseModInfo(goVersion: string, text: string): GoBuildInfo {
  const info: GoBuildInfo = { goVersion, path: '', deps: [], settings: [] };
  let last: GoModule | undefined;
  for (const line of text.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const kind = line.slice(0, tab);
    const fields = line.slice(tab + 1).split('\t') as [string, ...string[]];
    switch (kind) {
      case 'path':
        info.path = fields[0] ?? '';
        break;
      case 'mod':
      case 'dep': {
        if (fields.length < 2 || fields[0] === '') {
          last = undefined;
          break;
        }
        const m: GoModule = { path: fields[0], version: fields[1] ?? '', sum: fields[2] ?? '' };
        if (kind === 'mod') info.main = m;
        else info.deps.push(m);
        last = m;
        break;
      }
      case '=>':
        if (last && fields.length >= 2) last.replace = { path: fields[0], version: fields[1] ?? '', sum: fields[2] ?? '' };
        last = undefined;
        break;
      case 'build': {
        const eq = fields.join('\t').indexOf('=');
        const kv = fields.join('\t');
        if (eq > 0) info.settings.push({ key: kv.slice(0, eq), value: kv.slice(eq + 1) });
        break;
      }
    }
  }
  return info;
}

/** Build info of a Go ELF binary; undefined for any other ELF file (or a Go binary built without it). */
export function readGoBuildInfo(data: Buffer | ByteSource): GoBuildInfo | undefined {
  const raw = readRawBuildInfo(parseElf(data));
  return raw && parseModInfo(raw.goVersion, raw.modInfo);
}
