import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseLayersJson, readPackages, testImagesDir, type TestImageLayer, type TestImagePackage } from './test-image.ts';

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
  expected: {
    /** The final image's packages (root 4), in dpkg-query order (by name). */
    packages: TestImagePackage[];
    /** Packages after layer 1, 2, 3 and 4. */
    perRoot: TestImagePackage[][];
    /** Layers of the "gzip" tag, in order. */
    layers: TestImageLayer[];
    /** Layers of the "zstd" tag, in order. */
    zstdLayers: TestImageLayer[];
    configDigest: string;
  };
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
  const expectedDir = join(dir, 'expected');
  const perRoot = await Promise.all([1, 2, 3, 4].map((n) => readPackages(join(expectedDir, `root${n}.tsv`))));
  const layersFile = join(expectedDir, 'layers.json');
  const layers = parseLayersJson(layersFile, await readFile(layersFile, 'utf8'));
  return {
    dir,
    ociRef: `oci:${dir}/oci:gzip`,
    ociZstdRef: `oci:${dir}/oci:zstd`,
    expected: {
      packages: perRoot[3] ?? [],
      perRoot,
      layers: layers.layers,
      zstdLayers: layers.zstdLayers,
      configDigest: layers.config,
    },
    build: JSON.parse(await readFile(join(expectedDir, 'build.json'), 'utf8')) as Record<string, unknown>,
  };
}
