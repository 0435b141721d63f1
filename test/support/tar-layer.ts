import { createHash } from 'node:crypto';
import tar from 'tar-stream';

// Hand-made layers for unit tests: a list of entries → the bytes of a tar, and its sha256 digest.

export type TarEntry =
  | { path: string; content: string | Buffer; mode?: number }
  | { path: string; type: 'directory' | 'symlink' | 'link'; linkname?: string };

export async function makeTar(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const e of entries) {
    // A fixed mtime: the same entries always make the same bytes, hence the same digest.
    if ('content' in e) pack.entry({ name: e.path, mode: e.mode ?? 0o644, mtime: new Date(0) }, e.content);
    else pack.entry({ name: e.path, type: e.type, mtime: new Date(0), ...(e.linkname ? { linkname: e.linkname } : {}) });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export function sha256Digest(b: Buffer): string {
  return 'sha256:' + createHash('sha256').update(b).digest('hex');
}
