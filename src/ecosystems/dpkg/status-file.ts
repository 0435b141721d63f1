import type { Package } from '../../model/package.ts';
import { printable } from '../../model/printable.ts';
import { parseDpkgVersion } from '../../versions/dpkg.ts';

// dpkg's status database (var/lib/dpkg/status, and distroless images' var/lib/dpkg/status.d/NAME): RFC 822-style
// stanzas separated by blank lines; a line starting with a space or tab continues the previous field.
// Format: https://manpages.debian.org/bookworm/dpkg-dev/deb-control.5.en.html
//
// Read as it streams, line by line over the bytes: a status file is as large as an image wants it to be (a 130 MiB
// file of newlines once killed the process through text.split), so memory holds one stanza and the packages found,
// never the file.

/** A longer line is not a status file's (dpkg's own lines are a few KiB at most): the file is refused. */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Fields of one stanza, all lines together: bounds what one stanza can hold in memory. */
export const MAX_STANZA_BYTES = 8 * 1024 * 1024;

const FIELD_NAME = /^[!-9;-~]+$/; // printable ASCII without ':' or space (deb822: no leading '#' or '-' either)

export interface StanzaSink {
  (stanza: Map<string, string>): void;
}

/**
 * Incremental stanza reader: write() the bytes as they arrive, end() at the end. Malformed content (a line that is
 * neither a field nor a continuation, bytes that are not UTF-8 text, an over-long line) is reported through
 * `problem` (the first one only, with its line number), and the reader keeps what is readable. A fatal problem (an
 * over-long line or stanza) stops the reading: what follows is not looked at.
 */
export class StanzaReader {
  readonly #onStanza: StanzaSink;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #cur = new Map<string, string>();
  #curBytes = 0;
  #lastKey = '';
  #line = 0;
  #stopped = false;
  readonly #decoder = new TextDecoder('utf-8', { fatal: true });
  problem: string | undefined;

  constructor(onStanza: StanzaSink) {
    this.#onStanza = onStanza;
  }

  write(chunk: Buffer): void {
    if (this.#stopped) return;
    const len = chunk.length;
    let start = 0;
    while (start < len) {
      if (this.#pendingBytes === 0 && chunk[start] === 10) {
        // Runs of empty lines (a file of separators) cost a byte compare each: no Buffer per line.
        let i = start + 1;
        while (i < len && chunk[i] === 10) i++;
        this.#line += i - start;
        this.#flush();
        start = i;
        continue;
      }
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      if (this.#pendingBytes > 0) {
        this.#pending.push(chunk.subarray(start, nl));
        const line = Buffer.concat(this.#pending);
        this.#pending = [];
        this.#pendingBytes = 0;
        this.#lineBytes(line);
      } else {
        this.#lineBytes(chunk.subarray(start, nl));
      }
      if (this.#stopped) return;
      start = nl + 1;
    }
    if (start < len) {
      this.#pendingBytes += len - start;
      if (this.#pendingBytes > MAX_LINE_BYTES) return this.#fatal(`line ${this.#line + 1} is over ${MAX_LINE_BYTES} bytes`);
      // A copy: the caller may reuse the chunk's memory.
      this.#pending.push(Buffer.from(chunk.subarray(start)));
    }
  }

  end(): void {
    if (this.#stopped) return;
    if (this.#pendingBytes > 0) this.#lineBytes(Buffer.concat(this.#pending));
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#flush();
  }

  #fatal(message: string): void {
    this.problem ??= message;
    this.#stopped = true;
    this.#pending = [];
    this.#cur = new Map();
  }

  #note(message: string): void {
    this.problem ??= message;
  }

  #flush(): void {
    if (this.#cur.size > 0) {
      this.#onStanza(this.#cur);
      this.#cur = new Map();
    }
    this.#curBytes = 0;
    this.#lastKey = '';
  }

  #lineBytes(bytes: Buffer): void {
    this.#line++;
    if (bytes.length > MAX_LINE_BYTES) return this.#fatal(`line ${this.#line} is over ${MAX_LINE_BYTES} bytes`);
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 13) end--;
    // Blank lines (the common case in a file of separators) are decided on the bytes, without decoding.
    let blank = true;
    for (let i = 0; i < end; i++) {
      const b = bytes[i]!;
      if (b !== 32 && b !== 9) {
        blank = false;
        break;
      }
    }
    if (blank) {
      this.#flush();
      return;
    }
    let line: string;
    try {
      line = this.#decoder.decode(bytes.subarray(0, end));
    } catch {
      this.#note(`line ${this.#line} is not UTF-8 text`);
      return;
    }
    if (line.includes('\u0000')) {
      this.#note(`line ${this.#line} holds a NUL byte`);
      return;
    }
    this.#curBytes += line.length;
    if (this.#curBytes > MAX_STANZA_BYTES) return this.#fatal(`the stanza ending at line ${this.#line} is over ${MAX_STANZA_BYTES} bytes`);
    if (line[0] === ' ' || line[0] === '\t') {
      if (this.#lastKey) this.#cur.set(this.#lastKey, this.#cur.get(this.#lastKey) + '\n' + line.slice(1));
      else this.#note(`line ${this.#line}: a continuation line without a field before it`);
      return;
    }
    const colon = line.indexOf(':');
    const key = colon > 0 ? line.slice(0, colon) : '';
    if (!FIELD_NAME.test(key)) {
      this.#note(`line ${this.#line}: not a "Field: value" line: ${JSON.stringify(printable(line.slice(0, 80)))}`);
      this.#lastKey = '';
      return;
    }
    this.#lastKey = key;
    this.#cur.set(key, line.slice(colon + 1).trim());
  }
}

export function parseStanzas(text: string): Map<string, string>[] {
  const stanzas: Map<string, string>[] = [];
  const r = new StanzaReader((s) => stanzas.push(s));
  r.write(Buffer.from(text, 'utf8'));
  r.end();
  return stanzas;
}

/** `Source: name` or `Source: name (version)`; the source version defaults to the binary's version. */
export function parseSourceField(field: string | undefined, name: string, version: string): { name: string; version: string } {
  if (!field) return { name, version };
  const m = /^(\S+)(?:\s+\((\S+)\))?\s*$/.exec(field);
  if (!m) return { name, version };
  return { name: m[1]!, version: m[2] ?? version };
}

function invalidVersion(v: string): string | undefined {
  try {
    parseDpkgVersion(v);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Streaming reader of one status file: the packages dpkg considers installed, and what was wrong with the file.
 * Status is "want flag status"; config-files, half-installed and not-installed packages have no (or not all)
 * files on disk and are left out — we follow dpkg's own notion: status "installed". Distroless status.d files have
 * no Status field: each stanza there is an installed package.
 */
export class StatusFileReader {
  readonly packages: Package[] = [];
  readonly #errors: string[] = [];
  readonly #reader: StanzaReader;
  readonly #packageDb: string;
  #badVersions = 0;

  constructor(packageDb: string, requireStatus: boolean) {
    this.#packageDb = packageDb;
    this.#reader = new StanzaReader((st) => {
      const name = st.get('Package');
      const version = st.get('Version');
      if (!name || !version) return;
      const status = st.get('Status');
      if (status !== undefined || requireStatus) {
        const words = (status ?? '').split(/\s+/);
        if (words[2] !== 'installed') return;
      }
      const source = parseSourceField(st.get('Source'), name, version);
      // A version dpkg would refuse is kept (the package is installed) but said: matchers skip it with a warning.
      const bad = invalidVersion(version) ?? (source.version !== version ? invalidVersion(source.version) : undefined);
      if (bad !== undefined && this.#badVersions++ < 10) this.#errors.push(`${packageDb}: package ${printable(name)}: ${printable(bad)}`);
      this.packages.push({
        name, version, kind: 'binary', source, arch: st.get('Architecture') ?? '', module: '', cpe: '', packageDb, repositoryHint: '',
      });
    });
  }

  write(chunk: Buffer): void {
    this.#reader.write(chunk);
  }

  /** Ends the file; returns the problems found (none for a well-formed file). */
  end(): string[] {
    this.#reader.end();
    const errors = [...this.#errors];
    if (this.#badVersions > 10) errors.push(`${this.#packageDb}: ${this.#badVersions - 10} more packages with invalid versions`);
    if (this.#reader.problem !== undefined) errors.unshift(`${this.#packageDb} is not a valid dpkg status file: ${this.#reader.problem}`);
    return errors;
  }
}

/** The installed packages of a whole status file held in memory (tests, small inputs). */
export function installedPackages(text: string, packageDb: string, requireStatus: boolean): Package[] {
  const r = new StatusFileReader(packageDb, requireStatus);
  r.write(Buffer.from(text, 'utf8'));
  r.end();
  return r.packages;
}
