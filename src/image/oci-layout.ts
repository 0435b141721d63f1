// OCI image layout folders (OCI image spec v1.1, image-layout.md): an `oci-layout` marker,
// `index.json`, and content-addressed `blobs/<alg>/<hex>`. Nothing is copied or unpacked; layers are
// streamed from their blob files through a digest check.

import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { ClairError } from '../model/errors.ts';
import { MAX_DOCUMENT_BYTES, type BlobStore } from './blob-store.ts';
import type { BlobChunks } from './blob-chunks.ts';
import { parseDigest, verifyBytes } from './digest.ts';
import type { LayerDescriptor, ResolvedImage } from './resolved-image.ts';
import { selectManifest } from './manifest-selection.ts';
import { parseJson, parseManifestOrIndex, MediaType, type Descriptor } from './oci-documents.ts';
import type { Platform } from './platform.ts';
import { StreamRegistry } from './stream-registry.ts';

export async function openOciLayout(reference: string, dir: string, tag: string | undefined, platform: Platform): Promise<ResolvedImage> {
  const info = await stat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new ClairError('not-found', `OCI layout ${dir} does not exist`);
    throw new ClairError('bad-input', `OCI layout ${dir} cannot be read: ${err.message}`, { cause: err });
  });
  if (!info.isDirectory()) throw new ClairError('bad-input', `OCI layout ${dir} is not a directory`);

  const marker = await readSmallFile(join(dir, 'oci-layout'), `OCI layout ${dir}`, 'oci-layout');
  const layout = parseJson(marker, `${dir}/oci-layout`);
  const version = typeof layout === 'object' && layout !== null ? (layout as Record<string, unknown>)['imageLayoutVersion'] : undefined;
  if (typeof version !== 'string') throw new ClairError('bad-image', `${dir}/oci-layout has no imageLayoutVersion`);
  if (!version.startsWith('1.')) throw new ClairError('unsupported', `${dir}/oci-layout: imageLayoutVersion ${version} is not supported (1.x is)`);

  const store = new OciLayoutBlobs(dir);
  const indexBytes = await readSmallFile(join(dir, 'index.json'), `OCI layout ${dir}`, 'index.json');
  const index = parseManifestOrIndex(indexBytes, `${dir}/index.json`, MediaType.ociIndex);
  if (index.kind !== 'index') throw new ClairError('bad-image', `${dir}/index.json is not an image index`);

  const selected = await selectManifest(store, index, 'index.json', tag === undefined ? { platform } : { tag, platform });
  const layers: LayerDescriptor[] = selected.manifest.layers.map((l, i) => {
    const layer: LayerDescriptor = { digest: l.digest, diffId: selected.config.diffIds[i]! };
    if (l.size !== undefined) layer.size = l.size;
    if (l.mediaType !== undefined) layer.mediaType = l.mediaType;
    return layer;
  });
  const streams = new StreamRegistry(`OCI layout ${dir}`);
  const image: ResolvedImage = {
    reference,
    manifestDigest: selected.descriptor.digest,
    configDigest: selected.configDigest,
    layers,
    openLayer: async (layer) => {
      streams.assertOpen();
      const descriptor: Descriptor = layer.size !== undefined ? { digest: layer.digest, size: layer.size } : { digest: layer.digest };
      return streams.track(await store.openBlob(descriptor, 'layer'));
    },
    readLayer: async (layer) => {
      streams.assertOpen();
      const descriptor: Descriptor = layer.size !== undefined ? { digest: layer.digest, size: layer.size } : { digest: layer.digest };
      return streams.trackChunks(await store.blobChunks(descriptor, 'layer'));
    },
    close: async () => streams.closeAll(),
  };
  if (selected.platform) image.platform = selected.platform;
  return image;
}

async function readSmallFile(path: string, owner: string, name: string): Promise<Buffer> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new ClairError('bad-image', `${owner} is not an OCI image layout: ${name} is missing`);
    throw new ClairError('bad-image', `${owner}: ${name} cannot be read: ${err.message}`, { cause: err });
  });
  if (!info.isFile()) throw new ClairError('bad-image', `${owner}: ${name} is not a regular file`);
  if (info.size > MAX_DOCUMENT_BYTES) throw new ClairError('bad-image', `${owner}: ${name} is ${info.size} bytes, larger than any real ${name}`);
  return readFile(path);
}

class OciLayoutBlobs implements BlobStore {
  readonly description: string;
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
    this.description = `OCI layout ${dir}`;
  }

  // parseDigest admits only [a-z0-9] algorithms and hex, so the path cannot leave blobs/.
  async #locate(descriptor: Descriptor, what: string): Promise<{ path: string; size: number }> {
    const { algorithm, hex } = parseDigest(descriptor.digest);
    const path = join(this.#dir, 'blobs', algorithm, hex);
    const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new ClairError('not-found', `${what} ${descriptor.digest}: blob blobs/${algorithm}/${hex} is missing from ${this.description}`);
      throw new ClairError('bad-image', `${what} ${descriptor.digest}: blob in ${this.description} cannot be read: ${err.message}`, { cause: err });
    });
    if (!info.isFile()) throw new ClairError('bad-image', `${what} ${descriptor.digest}: blobs/${algorithm}/${hex} in ${this.description} is not a regular file`);
    return { path, size: info.size };
  }

  async readDocument(descriptor: Descriptor, what: string): Promise<Buffer> {
    const { path, size } = await this.#locate(descriptor, what);
    if (size > MAX_DOCUMENT_BYTES) throw new ClairError('bad-image', `${what} ${descriptor.digest} in ${this.description} is ${size} bytes, too large for a manifest or config`);
    if (descriptor.size !== undefined && descriptor.size !== size) {
      throw new ClairError('digest-mismatch', `${what} ${descriptor.digest}: expected ${descriptor.size} bytes, got ${size}`);
    }
    const bytes = await readFile(path);
    verifyBytes(bytes, descriptor.digest, what);
    return bytes;
  }

  async openBlob(descriptor: Descriptor, what: string): Promise<Readable> {
    // Loaded for the first layer read: resolving the image (all a stored scan result needs) reads documents only.
    const { DigestVerifier } = await import('./digest-verifier.ts');
    const verifier = new DigestVerifier(descriptor.digest, descriptor.size !== undefined ? { what, expectedSize: descriptor.size } : { what });
    const { path } = await this.#locate(descriptor, what);
    // pipeline forwards a read error to the verifier (the stream the caller holds) and closes the
    // file when the caller destroys the verifier early; the callback has nothing left to do.
    // 1 MiB reads: the default 64 KiB means one thread-pool round trip per 64 KiB of a layer.
    return pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), verifier, () => {});
  }

  /** The blob as BlobChunks, checked as openBlob's stream is. */
  async blobChunks(descriptor: Descriptor, what: string): Promise<BlobChunks> {
    const [{ DigestCheck }, { fileChunks }] = await Promise.all([import('./digest-verifier.ts'), import('./blob-chunks.ts')]);
    const check = new DigestCheck(descriptor.digest, descriptor.size !== undefined ? { what, expectedSize: descriptor.size } : { what });
    const { path } = await this.#locate(descriptor, what);
    return fileChunks(path, check).catch((err: NodeJS.ErrnoException) => {
      throw new ClairError('bad-image', `${what} ${descriptor.digest}: blob in ${this.description} cannot be read: ${err.message}`, { cause: err });
    });
  }
}
