import type { FileRequest, FileSink, ScanFindings } from '../../indexer/scanner.ts';
import { ChunkedBytes, isElf, type ByteSource } from './elf-file.ts';

// Executables reach the binary scanners (Go build info, cargo-auditable) as a stream (Scanner.openFile), one file at
// a time: the first four bytes decide. A shell script, a Python launcher or any other non-ELF executable is dropped
// at once and costs nothing. An ELF file is kept until its end, since its section headers come last and pointers
// may lead anywhere in it: kept as the chunks the layer stream produced, not copied (both binary scanners hold the
// same chunks), read through ChunkedBytes, and released when `read` returns. Memory never exceeds the largest
// single binary (bounded by the scanner's maxFileSize) instead of growing with every binary of the layer.

export function elfFileSink(file: FileRequest, read: (bytes: ByteSource) => ScanFindings): FileSink {
  let chunks: Buffer[] | undefined = [];
  let headLen = 0;
  let elf: boolean | undefined;
  return {
    write(chunk) {
      if (elf === false || !chunks) return;
      chunks.push(chunk);
      if (elf !== undefined) return;
      headLen += chunk.length;
      if (headLen < 4) return;
      elf = isElf(chunks.length === 1 ? chunk : Buffer.concat(chunks).subarray(0, 4));
      if (!elf) chunks = undefined;
    },
    end() {
      const kept = chunks;
      chunks = undefined;
      if (!elf || !kept) return {};
      return read(new ChunkedBytes(kept));
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
