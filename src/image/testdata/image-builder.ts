// Builds small images on disk for the tests of src/image (and for anyone who needs a real image on disk
// in a test): tar layers written with tar-stream, compressed with zlib, OCI layouts and `docker save`
// archives written field by field from the OCI image spec v1.1 and Docker's image/docker/save code.
// Nothing here is downloaded; every byte is produced by this code.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { makeTar, sha256Digest } from '../../../test/support/tar-layer.ts';

export type LayerCompression = 'gzip' | 'zstd' | 'none';

/** "sha256:<hex>" of bytes. */
export const sha256 = sha256Digest;

export async function layerTar(files: Record<string, string | Buffer>): Promise<Buffer> {
  return makeTar(Object.entries(files).map(([path, content]) => ({ path, content })));
}

export function compress(bytes: Buffer, c: LayerCompression): Buffer {
  if (c === 'gzip') return zlib.gzipSync(bytes);
  if (c === 'zstd') return zlib.zstdCompressSync(bytes);
  return bytes;
}

const LAYER_MEDIA_TYPE: Record<LayerCompression, string> = {
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  none: 'application/vnd.oci.image.layer.v1.tar',
};

export interface BuiltLayer {
  tar: Buffer;
  blob: Buffer;
  digest: string;
  diffId: string;
  mediaType: string;
}

export function buildLayer(tarBytes: Buffer, c: LayerCompression): BuiltLayer {
  const blob = compress(tarBytes, c);
  return { tar: tarBytes, blob, digest: sha256(blob), diffId: sha256(tarBytes), mediaType: LAYER_MEDIA_TYPE[c] };
}

export interface JsonDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { os: string; architecture: string; variant?: string };
}

export interface BuiltImage {
  manifest: JsonDescriptor;
  configDigest: string;
  config: Buffer;
  layers: BuiltLayer[];
}

export function imageConfig(layers: readonly BuiltLayer[], platform = { os: 'linux', architecture: 'amd64' } as { os: string; architecture: string; variant?: string }): Buffer {
  return Buffer.from(JSON.stringify({ ...platform, config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } }));
}

/** Writes an OCI image layout folder blob by blob; index.json is written by writeIndex. */
export class OciLayoutWriter {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  async init(): Promise<this> {
    await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(this.dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    return this;
  }

  blobPath(digest: string): string {
    const [alg, hex] = digest.split(':') as [string, string];
    return join(this.dir, 'blobs', alg, hex);
  }

  async addBlob(bytes: Buffer, mediaType: string): Promise<JsonDescriptor> {
    const digest = sha256(bytes);
    await writeFile(this.blobPath(digest), bytes);
    return { mediaType, digest, size: bytes.length };
  }

  async addImage(layers: BuiltLayer[], platform?: { os: string; architecture: string; variant?: string }): Promise<BuiltImage> {
    for (const l of layers) await this.addBlob(l.blob, l.mediaType);
    const config = imageConfig(layers, platform);
    const configDesc = await this.addBlob(config, 'application/vnd.oci.image.config.v1+json');
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: configDesc,
        layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.blob.length })),
      }),
    );
    const desc = await this.addBlob(manifest, 'application/vnd.oci.image.manifest.v1+json');
    if (platform) desc.platform = platform;
    return { manifest: desc, configDigest: configDesc.digest, config, layers };
  }

  async addIndex(manifests: JsonDescriptor[]): Promise<JsonDescriptor> {
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
    return this.addBlob(bytes, 'application/vnd.oci.image.index.v1+json');
  }

  async writeIndex(entries: { descriptor: JsonDescriptor; tag?: string }[]): Promise<void> {
    const manifests = entries.map(({ descriptor, tag }) => (tag === undefined ? descriptor : { ...descriptor, annotations: { 'org.opencontainers.image.ref.name': tag } }));
    await writeFile(join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
  }
}

export interface ArchiveImage {
  repoTags: string[];
  layers: BuiltLayer[];
}

/**
 * A `docker save` tar. 'classic': "<hex>.json" config and "<n>/layer.tar" uncompressed layers (Docker ≤ 24);
 * 'oci': Docker 25+, blobs/sha256/<hex> plus oci-layout and index.json, layers stored as given.
 * In 'classic', a layer repeated across images is a symlink to its first copy, as Docker writes it.
 */
export async function dockerArchive(images: ArchiveImage[], layout: 'classic' | 'oci', options: { gzip?: boolean } = {}): Promise<{ bytes: Buffer; manifests: BuiltImage[] }> {
  const pack = tar.pack();
  const written = new Set<string>();
  const firstCopy = new Map<string, string>();
  const manifestJson: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const indexEntries: JsonDescriptor[] = [];
  const built: BuiltImage[] = [];
  const add = (name: string, bytes: Buffer): void => {
    if (written.has(name)) return;
    written.add(name);
    pack.entry({ name, mode: 0o644, mtime: new Date(0) }, bytes);
  };
  if (layout === 'oci') add('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  for (const image of images) {
    const config = imageConfig(image.layers);
    const configDigest = sha256(config);
    const hex = (d: string): string => d.slice('sha256:'.length);
    if (layout === 'classic') {
      add(`${hex(configDigest)}.json`, config);
      const layerPaths: string[] = [];
      for (const [position, l] of image.layers.entries()) {
        // Docker names the folder by a v1 id that depends on the image and the layer's position;
        // a layer already written by an earlier image becomes a symlink to that copy.
        const dir = hex(sha256(Buffer.from(`${images.indexOf(image)}/${position}/${l.diffId}`)));
        const path = `${dir}/layer.tar`;
        add(`${dir}/VERSION`, Buffer.from('1.0'));
        const first = firstCopy.get(l.diffId);
        if (first !== undefined) {
          pack.entry({ name: path, type: 'symlink', linkname: `../${first}`, mtime: new Date(0) });
        } else {
          add(path, l.tar);
          firstCopy.set(l.diffId, path);
        }
        layerPaths.push(path);
      }
      manifestJson.push({ Config: `${hex(configDigest)}.json`, RepoTags: image.repoTags, Layers: layerPaths });
      built.push({ manifest: { mediaType: '', digest: '', size: 0 }, configDigest, config, layers: image.layers });
    } else {
      add(`blobs/sha256/${hex(configDigest)}`, config);
      for (const l of image.layers) add(`blobs/sha256/${hex(l.digest)}`, l.blob);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
          layers: image.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.blob.length })),
        }),
      );
      const manifestDigest = sha256(manifest);
      add(`blobs/sha256/${hex(manifestDigest)}`, manifest);
      const desc: JsonDescriptor = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length };
      indexEntries.push({ ...desc, annotations: { 'io.containerd.image.name': `docker.io/library/${image.repoTags[0] ?? 'none'}`, 'org.opencontainers.image.ref.name': (image.repoTags[0] ?? 'none').split(':')[1] ?? 'latest' } });
      manifestJson.push({ Config: `blobs/sha256/${hex(configDigest)}`, RepoTags: image.repoTags, Layers: image.layers.map((l) => `blobs/sha256/${hex(l.digest)}`) });
      built.push({ manifest: desc, configDigest, config, layers: image.layers });
    }
  }
  if (layout === 'oci') add('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: indexEntries })));
  add('manifest.json', Buffer.from(JSON.stringify(manifestJson)));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const bytes = Buffer.concat(chunks);
  return { bytes: options.gzip ? zlib.gzipSync(bytes) : bytes, manifests: built };
}

/** Collects a stream into memory (test-sized data only). */
export async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}
