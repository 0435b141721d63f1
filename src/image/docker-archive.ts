// `docker save` tars, read in place: one pass builds a table of entry offsets (tar-table.ts), then each
// layer is streamed by byte range from the file. Two layouts exist, both described by manifest.json
// (an array of { Config, RepoTags, Layers }):
//  - classic (Docker ≤ 24, skopeo, podman): Config "<hex>.json", Layers "<id>/layer.tar" or "<hex>.tar",
//    uncompressed, possibly symlinked to one another; there is no manifest blob at all;
//  - Docker 25+: an OCI layout inside the tar (oci-layout, index.json, blobs/sha256/<hex>) with a
//    manifest.json whose Config and Layers point into blobs/.
// Compressed archives (`docker save | gzip`) are read by the sequential fallback of tar-table.ts.
// An uncompressed archive's layers are also handed out as BlobChunks (readLayer): positional reads of the archive
// file into two reused buffers, hashed as they are read, as an OCI layout's blob files are (blob-chunks.ts).

import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { ClairError } from '../model/errors.ts';
import { MAX_DOCUMENT_BYTES, type BlobStore } from './blob-store.ts';
import { digestOf, parseDigest, verifyBytes } from './digest.ts';
import { DigestCheck, DigestVerifier } from './digest-verifier.ts';
import type { LayerDescriptor, ResolvedImage } from './resolved-image.ts';
import { findManifestByConfig } from './manifest-selection.ts';
import { MediaType, parseImageConfig, parseJson, parseManifestOrIndex, platformOfConfig, type Descriptor, type ImageManifest } from './oci-documents.ts';
import { StreamRegistry } from './stream-registry.ts';
import { fileChunks, type BlobChunks } from './blob-chunks.ts';
import { indexTarFile, openTarEntry, resolveEntry, type TarEntry, type TarTable } from './tar-table.ts';

interface ArchiveManifestEntry {
  config: string;
  repoTags: string[];
  layers: string[];
}

export async function openDockerArchive(reference: string, path: string, imageName: string | undefined): Promise<ResolvedImage> {
  const description = `docker archive ${path}`;
  const table = await indexTarFile(path, {
    description,
    // Top-level JSON files are the metadata (manifest.json, index.json, classic "<hex>.json" configs).
    keep: (e) => !e.name.includes('/') && (e.name.endsWith('.json') || e.name === 'oci-layout'),
    maxKeptBytes: MAX_DOCUMENT_BYTES,
  });
  const archive = new ArchiveContents(table, description);

  if (!table.entries.has('manifest.json')) {
    const hint = table.entries.has('index.json') && table.entries.has('oci-layout') ? ' (it looks like an OCI archive: extract it and use oci:DIR)' : '';
    throw new ClairError('bad-image', `${description} is not a docker save archive: it has no manifest.json${hint}`);
  }
  const entries = parseArchiveManifest(await archive.readFile('manifest.json'), `${description}: manifest.json`);
  const chosen = chooseImage(entries, imageName, description);

  const configBytes = await archive.readFile(chosen.config);
  const configDigest = configDigestOf(chosen.config, configBytes, description);
  const config = parseImageConfig(configBytes, `${description}: config ${chosen.config}`);
  if (config.diffIds.length !== chosen.layers.length) {
    throw new ClairError('bad-image', `${description}: manifest.json lists ${chosen.layers.length} layers but config ${chosen.config} has ${config.diffIds.length} rootfs.diff_ids`);
  }

  const layerPaths = new Map<string, string>();
  const layers: LayerDescriptor[] = chosen.layers.map((layerPath, i) => {
    const diffId = config.diffIds[i]!;
    const blobDigest = blobDigestOfPath(layerPath);
    // A classic layer.tar is the uncompressed tar itself, so its digest is its diff_id (verified on read).
    const layer: LayerDescriptor = { digest: blobDigest ?? diffId, diffId };
    const entry = resolveEntry(table, layerPath, description);
    if (entry) layer.size = entry.size;
    if (blobDigest === undefined) layer.mediaType = MediaType.dockerLayerTar;
    layerPaths.set(layer.digest, layerPath);
    return layer;
  });

  // Docker 25+ archives carry the real manifest; find it to report its digest and layer media types.
  let manifestDigest: string | undefined;
  if (table.entries.has('index.json')) {
    const index = parseManifestOrIndex(await archive.readFile('index.json'), `${description}: index.json`, MediaType.ociIndex);
    if (index.kind === 'index') {
      const found = await findManifestByConfig(archive, index, configDigest);
      if (found && sameLayers(found.manifest, layers)) {
        manifestDigest = found.descriptor.digest;
        found.manifest.layers.forEach((l, i) => {
          if (l.mediaType !== undefined) layers[i]!.mediaType = l.mediaType;
        });
      }
    }
  }
  manifestDigest ??= digestOf(synthesizedManifest(configDigest, configBytes.length, layers));

  const streams = new StreamRegistry(description);
  const image: ResolvedImage = {
    reference,
    manifestDigest,
    configDigest,
    layers,
    openLayer: async (layer) => {
      streams.assertOpen();
      const layerPath = layerPaths.get(layer.digest);
      if (layerPath === undefined) throw new ClairError('not-found', `layer ${layer.digest} is not a layer of ${reference}`);
      return streams.track(await archive.openFile(layerPath, layer.digest, 'layer'));
    },
    close: async () => streams.closeAll(),
  };
  // A compressed archive has no byte ranges to read: its layers stay on openLayer's sequential fallback.
  if (table.compression === 'none') {
    image.readLayer = async (layer) => {
      streams.assertOpen();
      const layerPath = layerPaths.get(layer.digest);
      if (layerPath === undefined) throw new ClairError('not-found', `layer ${layer.digest} is not a layer of ${reference}`);
      return streams.trackChunks(await archive.fileChunks(layerPath, layer.digest, 'layer'));
    };
  }
  const platform = platformOfConfig(config);
  if (platform) image.platform = platform;
  return image;
}

/**
 * The manifest a classic archive would have had: compact JSON, keys in this order, OCI media types.
 * Its sha256 stands in for the manifest digest, so the same image content always gets the same id.
 * `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
 *   "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":<config>,"size":<n>},
 *   "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":<diff_id>,"size":<n>},…]}`
 * (a layer's size is left out when its entry is missing from the archive).
 */
export function synthesizedManifest(configDigest: string, configSize: number, layers: readonly LayerDescriptor[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configDigest, size: configSize },
      layers: layers.map((l) => ({ mediaType: MediaType.ociLayerTar, digest: l.digest, size: l.size })),
    }),
  );
}

function sameLayers(manifest: ImageManifest, layers: readonly LayerDescriptor[]): boolean {
  return manifest.layers.length === layers.length && manifest.layers.every((l, i) => l.digest === layers[i]!.digest);
}

/** "blobs/sha256/<hex>" → "sha256:<hex>"; undefined for any other path. */
function blobDigestOfPath(path: string): string | undefined {
  const m = /^(?:\.\/)?blobs\/([a-z0-9]+)\/([0-9a-f]+)$/.exec(path);
  if (!m) return undefined;
  const digest = `${m[1]}:${m[2]}`;
  try {
    parseDigest(digest);
  } catch {
    return undefined; // not a digest after all: treated as a plain path, hashed like a classic file
  }
  return digest;
}

function configDigestOf(configPath: string, bytes: Buffer, description: string): string {
  const fromPath = blobDigestOfPath(configPath) ?? (/^([0-9a-f]{64})\.json$/.exec(configPath) ? `sha256:${configPath.slice(0, 64)}` : undefined);
  if (fromPath !== undefined) {
    verifyBytes(bytes, fromPath, `${description}: config`);
    return fromPath;
  }
  return digestOf(bytes);
}

function parseArchiveManifest(bytes: Buffer, what: string): ArchiveManifestEntry[] {
  const doc = parseJson(bytes, what);
  if (!Array.isArray(doc) || doc.length === 0) throw new ClairError('bad-image', `${what} is not a non-empty array of images`);
  return doc.map((raw: unknown, i) => {
    const o = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
    const config = o['Config'];
    const layers = o['Layers'];
    const repoTags = o['RepoTags'] ?? [];
    if (typeof config !== 'string') throw new ClairError('bad-image', `${what}[${i}] has no Config path`);
    if (!Array.isArray(layers) || !layers.every((l) => typeof l === 'string')) throw new ClairError('bad-image', `${what}[${i}] has no Layers array of paths`);
    if (!Array.isArray(repoTags) || !repoTags.every((t) => typeof t === 'string')) throw new ClairError('bad-image', `${what}[${i}]: RepoTags is not an array of strings`);
    return { config, layers: layers as string[], repoTags: repoTags as string[] };
  });
}

/** "alpine" → "alpine:latest", "docker.io/library/alpine:3" → "alpine:3": how docker names the same image. */
function normalizeImageName(name: string): string {
  let n = name.replace(/^(?:index\.)?docker\.io\//, '').replace(/^library\//, '');
  const lastSlash = n.lastIndexOf('/');
  if (!n.slice(lastSlash + 1).includes(':') && !n.includes('@')) n += ':latest';
  return n;
}

function chooseImage(entries: ArchiveManifestEntry[], imageName: string | undefined, description: string): ArchiveManifestEntry {
  const available = entries.map((e, i) => (e.repoTags.length > 0 ? e.repoTags.join(' ') : `@${i} (untagged)`)).join(', ');
  if (imageName === undefined) {
    if (entries.length === 1) return entries[0]!;
    throw new ClairError('bad-input', `${description} holds ${entries.length} images; name one with docker-archive:PATH:REPO:TAG (or :@N). Available: ${available}`);
  }
  const byIndex = /^@(\d+)$/.exec(imageName);
  if (byIndex) {
    const e = entries[Number(byIndex[1])];
    if (!e) throw new ClairError('not-found', `${description} has no image ${imageName}; it holds ${entries.length}: ${available}`);
    return e;
  }
  const wanted = normalizeImageName(imageName);
  const matches = entries.filter((e) => e.repoTags.some((t) => normalizeImageName(t) === wanted));
  if (matches.length === 0) throw new ClairError('not-found', `${description} has no image ${imageName}; available: ${available}`);
  if (matches.length > 1) throw new ClairError('bad-input', `${description} has ${matches.length} images tagged ${imageName}; name one with :@N. Available: ${available}`);
  return matches[0]!;
}

/** Reads files out of the archive: small metadata into memory, layers as verified streams. */
class ArchiveContents implements BlobStore {
  readonly description: string;
  readonly #table: TarTable;

  constructor(table: TarTable, description: string) {
    this.#table = table;
    this.description = description;
  }

  #entry(path: string, what: string): TarEntry {
    const entry = resolveEntry(this.#table, path, this.description);
    if (!entry) throw new ClairError('not-found', `${what}: ${path} is missing from ${this.description}`);
    if (entry.type !== 'file' && entry.type !== 'contiguous-file') throw new ClairError('bad-image', `${what}: ${path} in ${this.description} is a ${entry.type}, not a file`);
    return entry;
  }

  async readFile(path: string, what: string = path): Promise<Buffer> {
    const entry = this.#entry(path, what);
    const kept = this.#table.kept.get(entry.name);
    if (kept) return kept;
    if (entry.size > MAX_DOCUMENT_BYTES) throw new ClairError('bad-image', `${what}: ${path} in ${this.description} is ${entry.size} bytes, too large for a manifest or config`);
    const chunks: Buffer[] = [];
    for await (const chunk of openTarEntry(this.#table, entry)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async openFile(path: string, digest: string, what: string): Promise<Readable> {
    const entry = this.#entry(path, `${what} ${digest}`);
    const verifier = new DigestVerifier(digest, { what, expectedSize: entry.size });
    return pipeline(openTarEntry(this.#table, entry), verifier, () => {});
  }

  /**
   * The same bytes and checks as openFile (digest and entry size), as BlobChunks read by position from the archive.
   * Only for an uncompressed archive, whose entries sit at byte ranges of the file.
   */
  async fileChunks(path: string, digest: string, what: string): Promise<BlobChunks> {
    const entry = this.#entry(path, `${what} ${digest}`);
    const check = new DigestCheck(digest, { what, expectedSize: entry.size });
    return fileChunks(this.#table.path, check, { start: entry.dataOffset, length: entry.size }).catch((err: NodeJS.ErrnoException) => {
      throw new ClairError('bad-image', `${what} ${digest}: ${this.description} cannot be read: ${err.message}`, { cause: err });
    });
  }

  async readDocument(descriptor: Descriptor, what: string): Promise<Buffer> {
    const { algorithm, hex } = parseDigest(descriptor.digest);
    const bytes = await this.readFile(`blobs/${algorithm}/${hex}`, `${what} ${descriptor.digest}`);
    if (descriptor.size !== undefined && descriptor.size !== bytes.length) {
      throw new ClairError('digest-mismatch', `${what} ${descriptor.digest}: expected ${descriptor.size} bytes, got ${bytes.length}`);
    }
    verifyBytes(bytes, descriptor.digest, what);
    return bytes;
  }

  async openBlob(descriptor: Descriptor, what: string): Promise<Readable> {
    const { algorithm, hex } = parseDigest(descriptor.digest);
    return this.openFile(`blobs/${algorithm}/${hex}`, descriptor.digest, what);
  }
}
