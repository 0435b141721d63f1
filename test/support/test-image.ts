import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClairError } from '../../src/model/errors.ts';

// The real Debian bookworm image built by scripts/build-test-image.sh (three layers: debootstrap
// minbase; apt-get install curl libxml2 openssl sqlite3 libexpat1; apt-get purge sqlite3), with the
// package lists dpkg-query printed for each root. Acceptance tests scan it and compare with that truth.

export const TEST_IMAGE_SKIP_MESSAGE = 'Debian test image not built: run scripts/build-test-image.sh';

const BUILD_SCRIPT = fileURLToPath(new URL('../../scripts/build-test-image.sh', import.meta.url));

/** One line of `dpkg-query -W -f '${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}'`. */
export interface TestImagePackage {
  name: string;
  version: string;
  arch: string;
  sourceName: string;
  sourceVersion: string;
}

export interface TestImageLayer {
  digest: string; // of the blob as stored (compressed)
  diffId: string; // of the uncompressed tar
  mediaType: string;
  size: number;
}

export interface DebianTestImage {
  dir: string;
  /** "oci:<dir>/oci:bookworm": every layer gzip. */
  ociRef: string;
  /** "oci:<dir>/oci:zstd": the same image with layer 2 zstd-compressed. */
  ociZstdRef: string;
  /** "docker-archive:<dir>/docker-archive.tar" (image docker.io/clair-ts/test-debian:bookworm). */
  dockerArchiveRef: string;
  /** The "bookworm" tag's layers are `expected.layers`; the "zstd" tag's (layer 2 zstd) `expected.zstdLayers`. */
  expected: ImageExpectations;
}

/** What a build script wrote under <image>/expected: dpkg-query on each root, and the layers of its two tags. */
export interface ImageExpectations {
  /** The final image's packages (the last root), in dpkg-query order (by name). */
  packages: TestImagePackage[];
  /** Packages after each layer, in order. */
  perRoot: TestImagePackage[][];
  /** Layers of the gzip tag, in order. */
  layers: TestImageLayer[];
  /** Layers of the zstd tag, in order. */
  zstdLayers: TestImageLayer[];
  configDigest: string;
}

/** Reads <dir>/expected of an image of `layers` layers (root1.tsv … rootN.tsv, layers.json). */
export async function readExpectations(dir: string, layers: number): Promise<ImageExpectations> {
  const expectedDir = join(dir, 'expected');
  const perRoot = await Promise.all(Array.from({ length: layers }, (_, i) => readPackages(join(expectedDir, `root${i + 1}.tsv`))));
  const layersFile = join(expectedDir, 'layers.json');
  const l = parseLayersJson(layersFile, await readFile(layersFile, 'utf8'));
  return { packages: perRoot[layers - 1] ?? [], perRoot, layers: l.layers, zstdLayers: l.zstdLayers, configDigest: l.config };
}

/** Where the build scripts keep their images: the same rule as scripts/build-test-image.sh. */
export function testImagesDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.CLAIR_TS_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'clair-ts');
  return join(cache, 'test-images');
}

export function debianTestImageDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(testImagesDir(env), 'debian-bookworm');
}

let pending: Promise<DebianTestImage | undefined> | undefined;

/**
 * The cached test image, or undefined when it is not built and building is not allowed.
 * Builds it (about a minute, needs root and the Debian mirror) only when CLAIR_TS_BUILD_TEST_IMAGE=1
 * or CI is set; a failed build throws, so CI does not silently skip the acceptance tests.
 */
export function debianTestImage(): Promise<DebianTestImage | undefined> {
  pending ??= load();
  return pending;
}

async function load(): Promise<DebianTestImage | undefined> {
  const dir = debianTestImageDir();
  if (!existsSync(join(dir, '.complete'))) {
    const mayBuild = process.env.CLAIR_TS_BUILD_TEST_IMAGE === '1' || Boolean(process.env.CI);
    if (!mayBuild) return undefined;
    await runBuild();
    if (!existsSync(join(dir, '.complete'))) {
      throw new ClairError('internal', `${BUILD_SCRIPT} finished but ${dir}/.complete is missing`);
    }
  }
  return {
    dir,
    ociRef: `oci:${dir}/oci:bookworm`,
    ociZstdRef: `oci:${dir}/oci:zstd`,
    dockerArchiveRef: `docker-archive:${dir}/docker-archive.tar`,
    expected: await readExpectations(dir, 3),
  };
}

function runBuild(): Promise<void> {
  return new Promise((resolve, reject) => {
    // The script's progress (apt output included) is kept and shown only if it fails.
    const child = spawn('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'ignore', 'pipe'] });
    const stderr: Buffer[] = [];
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    child.on('error', (e) => reject(new ClairError('unavailable', `cannot run ${BUILD_SCRIPT}: ${e.message}`, { cause: e })));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const tail = Buffer.concat(stderr).toString('utf8').trimEnd().split('\n').slice(-20).join('\n');
      reject(new ClairError('unavailable', `${BUILD_SCRIPT} failed (${signal ?? `exit ${code}`}):\n${tail}`));
    });
  });
}

export async function readPackages(file: string): Promise<TestImagePackage[]> {
  return parsePackagesTsv(file, await readFile(file, 'utf8'));
}

export function parsePackagesTsv(file: string, text: string): TestImagePackage[] {
  const out: TestImagePackage[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (line === '') continue;
    const f = line.split('\t');
    const [name, version, arch, sourceName, sourceVersion] = f;
    if (f.length !== 5 || !name || !version || !arch || !sourceName || !sourceVersion) {
      throw new ClairError('bad-input', `${file}:${i + 1}: expected 5 non-empty tab-separated fields, got ${JSON.stringify(line)}`);
    }
    out.push({ name, version, arch, sourceName, sourceVersion });
  }
  return out;
}

export function parseLayersJson(file: string, text: string): { config: string; layers: TestImageLayer[]; zstdLayers: TestImageLayer[] } {
  const bad = (why: string) => new ClairError('bad-input', `${file}: ${why}`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ClairError('bad-input', `${file}: not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (typeof doc !== 'object' || doc === null) throw bad('not an object');
  const o = doc as Record<string, unknown>;
  if (typeof o.config !== 'string') throw bad('"config" is not a string');
  const list = (key: string): TestImageLayer[] => {
    const v = o[key];
    if (!Array.isArray(v)) throw bad(`"${key}" is not an array`);
    return v.map((l: unknown, i) => {
      const r = (typeof l === 'object' && l !== null ? l : {}) as Record<string, unknown>;
      if (typeof r.digest !== 'string' || typeof r.diffId !== 'string' || typeof r.mediaType !== 'string' || typeof r.size !== 'number') {
        throw bad(`${key}[${i}] lacks digest, diffId, mediaType or size`);
      }
      return { digest: r.digest, diffId: r.diffId, mediaType: r.mediaType, size: r.size };
    });
  };
  return { config: o.config, layers: list('layers'), zstdLayers: list('zstdLayers') };
}
