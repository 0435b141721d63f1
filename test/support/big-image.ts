import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readExpectations, testImagesDir, type ImageExpectations } from './test-image.ts';

// The big real Debian bookworm image built by scripts/build-big-image.sh (four layers: debootstrap; a C/C++
// toolchain; Java, Python, Ruby and Node.js; Perl libraries, ImageMagick and Ghostscript; ~1.4 GB, ~900 packages),
// with the package lists dpkg-query printed for each root. The benchmarks measure at real scale on it; tests that
// use it skip when it is not built (it takes minutes and ~600 MB of downloads, so nothing builds it implicitly).

export const BIG_IMAGE_SKIP_MESSAGE = 'big Debian image not built: run scripts/build-big-image.sh';
export const BIG_IMAGE_BUILD_SCRIPT = fileURLToPath(new URL('../../scripts/build-big-image.sh', import.meta.url));

export interface DebianBigImage {
  dir: string;
  /** "oci:<dir>/oci:gzip": every layer gzip. */
  ociRef: string;
  /** "oci:<dir>/oci:zstd": the same image, every layer zstd (no blob shared with the gzip tag). */
  ociZstdRef: string;
  /** The "gzip" tag's layers are `expected.layers`, the "zstd" tag's `expected.zstdLayers`. */
  expected: ImageExpectations;
  /** expected/build.json as the script wrote it (sizes, build time, package lists). */
  build: Record<string, unknown>;
}

export function debianBigImageDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(testImagesDir(env), 'debian-big');
}

/** The cached big image, or null when it is not built (or not completely). */
export async function debianBigImage(env: NodeJS.ProcessEnv = process.env): Promise<DebianBigImage | null> {
  const dir = debianBigImageDir(env);
  if (!existsSync(join(dir, '.complete'))) return null;
  return {
    dir,
    ociRef: `oci:${dir}/oci:gzip`,
    ociZstdRef: `oci:${dir}/oci:zstd`,
    expected: await readExpectations(dir, 4),
    build: JSON.parse(await readFile(join(dir, 'expected', 'build.json'), 'utf8')) as Record<string, unknown>,
  };
}
