// Writes a local rhel-vex mirror (the layout of vex-mirror.ts) from documents given in memory, for tests: the
// archive is a real zstd tar made here with tar-stream and node:zlib; the documents are whatever the test passes
// (real Red Hat documents from the shared data).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import zlib from 'node:zlib';
import tar from 'tar-stream';

export interface MirrorSpec {
  /** "YYYY-MM-DD": names the archive csaf_vex_<date>.tar.zst. */
  archiveDate: string;
  /** path ("2025/cve-2025-40907.json") → document text, put in the archive. */
  archived: Record<string, string>;
  /** path → document text, written as loose files. */
  current?: Record<string, string>;
  changes?: [path: string, time: string][];
  deletions?: [path: string, time: string][];
}

export async function writeVexMirror(dir: string, spec: MirrorSpec): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const pack = tar.pack();
  for (const [name, text] of Object.entries(spec.archived)) pack.entry({ name, mode: 0o644, mtime: new Date(0) }, text);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const archive = `csaf_vex_${spec.archiveDate}.tar.zst`;
  writeFileSync(join(dir, archive), zlib.zstdCompressSync(Buffer.concat(chunks)));
  writeFileSync(join(dir, 'archive_latest.txt'), archive);
  for (const [path, text] of Object.entries(spec.current ?? {})) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const csv = (rows: [string, string][]) => rows.map(([p, t]) => `"${p}","${t}"\n`).join('');
  writeFileSync(join(dir, 'changes.csv'), csv(spec.changes ?? []));
  writeFileSync(join(dir, 'deletions.csv'), csv(spec.deletions ?? []));
}
