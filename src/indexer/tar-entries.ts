// The tar reader of layer walks: a synchronous state machine fed the decompressed chunks as they come. Each entry's
// header goes to a callback, which returns where the body goes or nothing; a body nobody wants is skipped by counting
// bytes, never copied or wrapped in a stream, and a wanted body is handed on as views of the chunks. tar-stream, used
// before, made a Readable per entry and pushed every skipped byte through it: for a 1.4 GB image of 50,000 files
// that was a quarter of the main thread's time.
//
// Formats: ustar (POSIX.1-1988, name prefix field), GNU (long names 'L'/'N' and long link names 'K', base-256 sizes)
// and PAX extended headers ('x', and 'g' merged into the next 'x') for path, linkpath and size — what Docker,
// BuildKit, containerd and GNU/BSD tar write. Decisions mirror tar-stream 3 (which this replaces), so a layer reads
// the same: zero blocks are skipped wherever they appear, a header with a bad checksum or no ustar/GNU magic is an
// error, and so is an archive that ends inside an entry.

export type TarEntryType =
  | 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo' | 'contiguous-file' | 'other';

export interface TarEntryHeader {
  /** As stored (after long-name and PAX overrides): not normalized. */
  name: string;
  type: TarEntryType;
  size: number;
  mode: number;
  linkname: string | undefined;
}

/**
 * Receives one entry's body in order, then end() once. With lent chunks (TarEntriesOptions.lentChunks) the bytes
 * written stay valid until end() has returned, not longer: copy what must outlive the entry.
 */
export interface TarEntryBody {
  write(chunk: Buffer): void;
  end(): void;
}

export interface TarEntriesOptions {
  /**
   * The pushed chunks are lent: valid while push() runs, freed or reused afterwards (decompressBlob's lend option).
   * A wanted body's bytes are then copied, into a buffer reused from one entry to the next when the entry is at most
   * SCRATCH_MAX bytes (one entry is read at a time), else into copies of their own, whose memory is freed once the
   * body's end() returned (TarEntryBody: the bytes are not used after that).
   */
  lentChunks?: boolean;
}

/**
 * Largest entry whose body is copied into the reused buffer: most wanted files (executables, status files) are
 * smaller; the buffer grows to the largest one read, never past this.
 */
const SCRATCH_MAX = 4 << 20;

/** A long name or PAX header larger than this is refused (tar-stream's limit). */
const MAX_LONG_HEADER = 4 * 1024 * 1024;
const BLOCK = 512;

const HEADER = 0;
const BODY = 1;
const LONG = 2;
const SKIP = 3;

type LongKind = 'gnu-long-path' | 'gnu-long-link-path' | 'pax-header' | 'pax-global-header';

export class TarEntries {
  readonly #onEntry: (header: TarEntryHeader) => TarEntryBody | undefined;
  #mode = HEADER;
  /** Bytes left of the current body, long header or padding. */
  #remaining = 0;
  /** Padding after the current body or long header. */
  #padding = 0;
  #body: TarEntryBody | undefined;
  readonly #lent: boolean;
  /** With lent chunks: the reused copy buffer, and the current body's place in it (undefined: copies of its own). */
  #scratch: Buffer | undefined;
  #copyTo: Buffer | undefined;
  #copyAt = 0;
  /** The copies of their own of the current body's bytes (a body larger than SCRATCH_MAX). */
  #copies: Buffer<ArrayBuffer>[] = [];
  /** A header split across two chunks. */
  readonly #headerBuf = Buffer.alloc(BLOCK);
  #headerLen = 0;
  #long: { kind: LongKind; chunks: Buffer[] } | undefined;
  #gnuLongPath: string | undefined;
  #gnuLongLinkPath: string | undefined;
  #pax: Record<string, string> | undefined;
  #paxGlobal: Record<string, string> | undefined;

  constructor(onEntry: (header: TarEntryHeader) => TarEntryBody | undefined, options: TarEntriesOptions = {}) {
    this.#onEntry = onEntry;
    this.#lent = options.lentChunks === true;
  }

  /** Takes the next bytes of the archive. Throws on a malformed header. */
  push(chunk: Buffer): void {
    let off = 0;
    const len = chunk.length;
    while (off < len) {
      if (this.#mode !== HEADER) {
        const n = Math.min(this.#remaining, len - off);
        if (this.#mode === BODY) {
          if (this.#body) this.#body.write(this.#lent ? this.#copy(chunk, off, n) : chunk.subarray(off, off + n));
        } else if (this.#mode === LONG) {
          this.#long!.chunks.push(this.#lent ? Buffer.from(chunk.subarray(off, off + n)) : chunk.subarray(off, off + n));
        }
        off += n;
        this.#remaining -= n;
        if (this.#remaining === 0) this.#sectionDone();
        continue;
      }
      if (this.#headerLen === 0 && len - off >= BLOCK) {
        this.#header(chunk.subarray(off, off + BLOCK));
        off += BLOCK;
        continue;
      }
      const n = Math.min(BLOCK - this.#headerLen, len - off);
      chunk.copy(this.#headerBuf, this.#headerLen, off, off + n);
      this.#headerLen += n;
      off += n;
      if (this.#headerLen === BLOCK) {
        this.#headerLen = 0;
        this.#header(this.#headerBuf);
      }
    }
  }

  /** The archive is over: throws when it stopped inside an entry or a header. */
  end(): void {
    if (this.#mode !== HEADER || this.#headerLen > 0) throw new Error('Unexpected end of data');
  }

  #header(block: Buffer): void {
    const h = decodeHeader(block);
    if (h === undefined) return; // a zero block: end-of-archive marker or padding
    const { typeflag, size } = h;
    const longKind = LONG_KINDS.get(typeflag);
    if (longKind !== undefined) {
      if (size > MAX_LONG_HEADER) throw new Error('Header exceeds max size');
      this.#long = { kind: longKind, chunks: [] };
      this.#enter(LONG, size);
      return;
    }
    let name = h.name;
    let linkname = h.linkname;
    let entrySize = size;
    if (this.#gnuLongPath !== undefined) name = this.#gnuLongPath;
    if (this.#gnuLongLinkPath !== undefined) linkname = this.#gnuLongLinkPath;
    this.#gnuLongPath = this.#gnuLongLinkPath = undefined;
    const pax = this.#pax;
    if (pax) {
      if (pax['path']) name = pax['path'];
      if (pax['linkpath']) linkname = pax['linkpath'];
      if (pax['size']) entrySize = parseInt(pax['size'], 10);
      this.#pax = undefined;
    }
    if (!(entrySize >= 0)) throw new Error('Invalid header');
    const type = entryType(typeflag, name);
    this.#body = this.#onEntry({ name, type, size: entrySize, mode: h.mode, linkname });
    if (this.#lent && this.#body && entrySize > 0) this.#copyInto(entrySize);
    // Like tar-stream: a directory's size is not followed by data.
    this.#enter(BODY, type === 'directory' ? 0 : entrySize);
  }

  /** Where the next body's copies go: the reused buffer (grown to hold it) when it is at most SCRATCH_MAX bytes. */
  #copyInto(size: number): void {
    this.#copyAt = 0;
    if (size > SCRATCH_MAX) {
      this.#copyTo = undefined;
      return;
    }
    if (!this.#scratch || this.#scratch.length < size) {
      this.#scratch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_MAX, Math.max(size, 2 * (this.#scratch?.length ?? 32 * 1024))));
    }
    this.#copyTo = this.#scratch;
  }

  /** A copy of chunk[off, off + n), for the current body. */
  #copy(chunk: Buffer, off: number, n: number): Buffer {
    const to = this.#copyTo;
    if (!to) {
      const copy = Buffer.allocUnsafeSlow(n);
      chunk.copy(copy, 0, off, off + n);
      this.#copies.push(copy);
      return copy;
    }
    chunk.copy(to, this.#copyAt, off, off + n);
    const view = to.subarray(this.#copyAt, this.#copyAt + n);
    this.#copyAt += n;
    return view;
  }

  /** Starts a body or long header of `size` bytes (then its padding to the next block). */
  #enter(mode: number, size: number): void {
    this.#mode = mode;
    this.#remaining = size;
    this.#padding = size % BLOCK === 0 ? 0 : BLOCK - (size % BLOCK);
    if (size === 0) this.#sectionDone();
  }

  #sectionDone(): void {
    if (this.#mode === BODY) {
      const body = this.#body;
      this.#body = undefined;
      body?.end();
      if (this.#copies.length > 0) {
        // Freed now rather than by a full garbage collection of the main heap (they are external memory).
        for (const c of this.#copies) c.buffer.transfer(0);
        this.#copies = [];
      }
    } else if (this.#mode === LONG) {
      const { kind, chunks } = this.#long!;
      this.#long = undefined;
      this.#applyLong(kind, Buffer.concat(chunks));
    }
    if (this.#mode !== SKIP && this.#padding > 0) {
      this.#mode = SKIP;
      this.#remaining = this.#padding;
      this.#padding = 0;
      return;
    }
    this.#mode = HEADER;
  }

  #applyLong(kind: LongKind, data: Buffer): void {
    switch (kind) {
      case 'gnu-long-path':
        this.#gnuLongPath = cString(data, 0, data.length);
        break;
      case 'gnu-long-link-path':
        this.#gnuLongLinkPath = cString(data, 0, data.length);
        break;
      case 'pax-global-header':
        this.#paxGlobal = decodePax(data);
        break;
      case 'pax-header':
        this.#pax = this.#paxGlobal === undefined ? decodePax(data) : { ...this.#paxGlobal, ...decodePax(data) };
        break;
    }
  }
}

// Typeflags as tar-stream numbers them: the byte minus '0'. 'x' = 72, 'g' = 55, 'K' = 27, 'L' = 28, 'N' = 30.
const LONG_KINDS = new Map<number, LongKind>([
  [72, 'pax-header'], [55, 'pax-global-header'], [27, 'gnu-long-link-path'], [28, 'gnu-long-path'], [30, 'gnu-long-path'],
]);
const TYPES: readonly TarEntryType[] = ['file', 'link', 'symlink', 'character-device', 'block-device', 'directory', 'fifo', 'contiguous-file'];

function entryType(typeflag: number, name: string): TarEntryType {
  // Old tars mark directories by a trailing slash on a regular-file entry.
  if (typeflag === 0 && name.endsWith('/')) return 'directory';
  return TYPES[typeflag] ?? 'other';
}

interface RawHeader {
  name: string;
  linkname: string | undefined;
  typeflag: number;
  size: number;
  mode: number;
}

/** undefined for an all-zero block. Throws for a bad checksum or an unknown format. */
function decodeHeader(b: Buffer): RawHeader | undefined {
  let sum = 8 * 32; // the checksum field itself counts as spaces
  for (let i = 0; i < 148; i++) sum += b[i]!;
  for (let i = 156; i < BLOCK; i++) sum += b[i]!;
  if (sum === 8 * 32) return undefined;
  if (sum !== octal(b, 148, 8)) throw new Error('Invalid tar header. Maybe the tar is corrupted or it needs to be gunzipped?');
  const typeflag = b[156] === 0 ? 0 : b[156]! - 48;
  let name = cString(b, 0, 100);
  // "ustar\0" + "00" is POSIX (prefix field holds the start of long names); "ustar " + " \0" is GNU (no prefix).
  const magic5 = b[257] === 0x75 && b[258] === 0x73 && b[259] === 0x74 && b[260] === 0x61 && b[261] === 0x72;
  if (magic5 && b[262] === 0) {
    if (b[345] !== 0) name = cString(b, 345, 155) + '/' + name;
  } else if (!(magic5 && b[262] === 0x20 && b[263] === 0x20 && b[264] === 0)) {
    throw new Error('Invalid tar header: unknown format.');
  }
  return {
    name,
    linkname: b[157] === 0 ? undefined : cString(b, 157, 100),
    typeflag,
    size: octal(b, 124, 12),
    mode: octal(b, 100, 8),
  };
}

/** A NUL-terminated UTF-8 field. */
function cString(b: Buffer, start: number, length: number): string {
  let end = start;
  const max = start + length;
  while (end < max && b[end] !== 0) end++;
  return b.toString('utf8', start, end);
}

/** An octal field (leading spaces and NULs allowed, ended by a space or NUL), or GNU base-256 when the top bit is set. */
function octal(b: Buffer, start: number, length: number): number {
  const end = start + length;
  if (b[start]! & 0x80) return base256(b, start, end);
  let i = start;
  while (i < end && b[i] === 32) i++;
  let stop = i;
  while (stop < end && b[stop] !== 32) stop++;
  while (i < stop && b[i] === 0) i++;
  if (i === stop) return 0;
  // The octal digits up to the first other byte, as parseInt(latin1 text, 8) reads them when the field starts with a
  // digit (every tar writer's case), without making a string: three fields a header (size, mode, checksum), half of
  // decodeHeader's time. A field starting with anything else (a sign, other whitespace) is left to parseInt.
  let value = 0;
  let j = i;
  for (; j < stop; j++) {
    const digit = b[j]! - 48;
    if (digit < 0 || digit > 7) break;
    value = value * 8 + digit;
  }
  return j > i ? value : parseInt(b.toString('latin1', i, stop), 8);
}

function base256(b: Buffer, start: number, end: number): number {
  const first = b[start];
  if (first !== 0x80 && first !== 0xff) return NaN;
  const positive = first === 0x80;
  let sum = 0;
  for (let i = start + 1; i < end; i++) sum = sum * 256 + (positive ? b[i]! : 0xff - b[i]!);
  return positive ? sum : -sum;
}

/** PAX records: "<length> <key>=<value>\n", length counting the whole record. */
function decodePax(data: Buffer): Record<string, string> {
  const result: Record<string, string> = {};
  let buf = data;
  while (buf.length > 0) {
    let i = 0;
    while (i < buf.length && buf[i] !== 32) i++;
    const len = parseInt(buf.toString('latin1', 0, i), 10);
    if (!len) return result;
    const record = buf.toString('utf8', i + 1, len - 1);
    const eq = record.indexOf('=');
    if (eq === -1) return result;
    result[record.slice(0, eq)] = record.slice(eq + 1);
    buf = buf.subarray(len);
  }
  return result;
}
