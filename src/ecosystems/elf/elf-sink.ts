import type { FileRequest, FileSink, ScanFindings } from '../../indexer/scanner.ts';
import { isElf } from './elf-file.ts';

// Executables reach the binary scanners (Go build info, cargo-auditable) as a stream (Scanner.openFile), one file at
// a time: the first four bytes decide. A shell script, a Python launcher or any other non-ELF executable is dropped
// at once and costs nothing. An ELF file is held whole until its end, since its section headers come last and
// pointers may lead anywhere in it; it is copied once into a buffer of its announced size, handed to `read`, and
// released, so memory never exceeds the largest single binary (bounded by the scanner's maxFileSize) instead of
// growing with every binary of the layer.

export function elfFileSink(file: FileRequest, read: (data: Buffer) => ScanFindings): FileSink {
  let head: Buffer[] | undefined = [];
  let headLen = 0;
  let elf: boolean | undefined;
  let buf: Buffer | undefined;
  let n = 0;
  let extra: Buffer[] | undefined;

  const keep = (c: Buffer): void => {
    if (buf && n + c.length <= buf.length) {
      c.copy(buf, n);
      n += c.length;
    } else {
      // The file is longer than announced (a hard link's size may be unknown): collect the rest as chunks.
      (extra ??= []).push(c);
    }
  };
  return {
    write(chunk) {
      if (elf === false) return;
      if (elf === undefined) {
        head!.push(chunk);
        headLen += chunk.length;
        if (headLen < 4) return;
        const first = Buffer.concat(head!);
        head = undefined;
        elf = isElf(first);
        if (!elf) return;
        buf = Buffer.allocUnsafe(Math.max(file.size, 0));
        keep(first);
        return;
      }
      keep(chunk);
    },
    end() {
      if (!elf || !buf) return {};
      const data = extra ? Buffer.concat([buf.subarray(0, n), ...extra]) : buf.subarray(0, n);
      buf = undefined;
      extra = undefined;
      return read(data);
    },
  };
}

/**
 * For OS file lists (Scanner.ownable, path only): where a distribution installs executables. bin/, sbin/ and
 * libexec/ anywhere, and extension-less files under usr/lib/ (Debian's /usr/lib/go-1.19/pkg/tool/linux_amd64/vet,
 * /usr/lib/cargo/bin/…): enough to mark the Go and Rust binaries a distribution ships as its own, without keeping
 * every shared library and data file of every package in the layer report.
 */
export function mayBeInstalledExecutable(path: string): boolean {
  if (/(^|\/)(s?bin|libexec)\//.test(path)) return true;
  return path.startsWith('usr/lib/') && !path.slice(path.lastIndexOf('/') + 1).includes('.');
}

/** Executable regular files: any of the three execute bits. */
export function isExecutable(mode: number): boolean {
  return (mode & 0o111) !== 0;
}

/** Feeds whole files through a scanner's openFile (for the walkers' buffered path, tests, and hard links). */
export function scanWhole(files: { path: string; data: Buffer; mode: number }[], open: (f: FileRequest) => FileSink): ScanFindings {
  const out: Required<Pick<ScanFindings, 'packageDbs' | 'errors'>> = { packageDbs: [], errors: [] };
  for (const f of files) {
    const sink = open({ path: f.path, size: f.data.length, mode: f.mode });
    sink.write(f.data);
    const r = sink.end();
    out.packageDbs.push(...(r.packageDbs ?? []));
    out.errors.push(...(r.errors ?? []));
  }
  return out;
}
