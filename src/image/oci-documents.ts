// The JSON documents of an image, checked at the boundary: image index, image manifest and image
// config (OCI image spec v1.1: image-index.md, manifest.md, config.md; Docker's schema 2 equivalents
// use the same field names). Only the fields clair-ts needs are kept.

import { ClairError } from '../model/errors.ts';
import { parseDigest } from './digest.ts';
import type { Platform } from './platform.ts';

export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerTar: 'application/vnd.docker.image.rootfs.diff.tar',
} as const;

const INDEX_TYPES = new Set<string>([MediaType.ociIndex, MediaType.dockerManifestList]);
const MANIFEST_TYPES = new Set<string>([MediaType.ociManifest, MediaType.dockerManifest]);
const CONFIG_TYPES = new Set<string>([MediaType.ociConfig, MediaType.dockerConfig]);

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  annotations?: Record<string, string>;
  platform?: Platform;
}

export interface ImageIndex {
  kind: 'index';
  manifests: Descriptor[];
}

export interface ImageManifest {
  kind: 'manifest';
  config: Descriptor;
  layers: Descriptor[];
}

export interface ImageConfig {
  os?: string;
  architecture?: string;
  variant?: string;
  /** rootfs.diff_ids: sha256 of each uncompressed layer tar, base first. */
  diffIds: string[];
}

/** Parses JSON bytes; malformed JSON is a 'bad-image' naming `what`. */
export function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new ClairError('bad-image', `${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalString(o: Record<string, unknown>, key: string, what: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ClairError('bad-image', `${what}: field ${key} is not a string`);
  return v;
}

function parseDescriptor(v: unknown, what: string): Descriptor {
  if (!isObject(v)) throw new ClairError('bad-image', `${what} is not a descriptor object`);
  const digest = v['digest'];
  if (typeof digest !== 'string') throw new ClairError('bad-image', `${what} has no digest`);
  try {
    parseDigest(digest);
  } catch (err) {
    // An unknown algorithm stays 'unsupported'; a malformed digest is a broken image.
    if (err instanceof ClairError && err.code === 'unsupported') throw err;
    throw new ClairError('bad-image', `${what}: ${(err as Error).message}`, { cause: err });
  }
  const d: Descriptor = { digest };
  const mediaType = optionalString(v, 'mediaType', what);
  if (mediaType !== undefined) d.mediaType = mediaType;
  const size = v['size'];
  if (size !== undefined) {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new ClairError('bad-image', `${what} ${digest}: size is not a non-negative integer`);
    d.size = size;
  }
  const annotations = v['annotations'];
  if (isObject(annotations)) {
    const a: Record<string, string> = {};
    for (const [k, val] of Object.entries(annotations)) if (typeof val === 'string') a[k] = val;
    d.annotations = a;
  }
  const platform = v['platform'];
  if (isObject(platform)) {
    const os = optionalString(platform, 'os', `${what} platform`);
    const architecture = optionalString(platform, 'architecture', `${what} platform`);
    const variant = optionalString(platform, 'variant', `${what} platform`);
    if (os !== undefined && architecture !== undefined) d.platform = variant ? { os, architecture, variant } : { os, architecture };
  }
  return d;
}

/**
 * Parses an image index or an image manifest; which one is decided by the media type (the
 * descriptor's, else the document's own) and, when neither says, by shape.
 */
export function parseManifestOrIndex(bytes: Uint8Array, what: string, descriptorMediaType?: string): ImageIndex | ImageManifest {
  const doc = parseJson(bytes, what);
  if (!isObject(doc)) throw new ClairError('bad-image', `${what} is not a JSON object`);
  if (doc['schemaVersion'] === 1) {
    throw new ClairError('unsupported', `${what} is a Docker schema 1 manifest; convert the image (e.g. skopeo copy) to schema 2 or OCI`);
  }
  const mediaType = descriptorMediaType ?? optionalString(doc, 'mediaType', what);
  const isIndex = mediaType !== undefined && INDEX_TYPES.has(mediaType) ? true : mediaType !== undefined && MANIFEST_TYPES.has(mediaType) ? false : Array.isArray(doc['manifests']) && !Array.isArray(doc['layers']);
  if (isIndex) {
    const manifests = doc['manifests'];
    if (!Array.isArray(manifests)) throw new ClairError('bad-image', `${what}: image index has no manifests array`);
    return { kind: 'index', manifests: manifests.map((m, i) => parseDescriptor(m, `${what} manifests[${i}]`)) };
  }
  if (mediaType !== undefined && !MANIFEST_TYPES.has(mediaType)) {
    throw new ClairError('unsupported', `${what} has media type ${mediaType}, which is neither an image index nor an image manifest`);
  }
  const layers = doc['layers'];
  if (!Array.isArray(layers)) throw new ClairError('bad-image', `${what}: image manifest has no layers array`);
  const config = parseDescriptor(doc['config'], `${what} config`);
  if (config.mediaType !== undefined && !CONFIG_TYPES.has(config.mediaType)) {
    throw new ClairError('unsupported', `${what} is not a container image (its config has media type ${config.mediaType})`);
  }
  return { kind: 'manifest', config, layers: layers.map((l, i) => parseDescriptor(l, `${what} layers[${i}]`)) };
}

export function parseImageConfig(bytes: Uint8Array, what: string): ImageConfig {
  const doc = parseJson(bytes, what);
  if (!isObject(doc)) throw new ClairError('bad-image', `${what} is not a JSON object`);
  const rootfs = doc['rootfs'];
  const rawDiffIds = isObject(rootfs) ? rootfs['diff_ids'] : undefined;
  if (!Array.isArray(rawDiffIds)) throw new ClairError('bad-image', `${what} has no rootfs.diff_ids array`);
  const diffIds = rawDiffIds.map((d, i) => {
    if (typeof d !== 'string') throw new ClairError('bad-image', `${what}: rootfs.diff_ids[${i}] is not a string`);
    try {
      parseDigest(d);
    } catch (err) {
      throw new ClairError('bad-image', `${what}: rootfs.diff_ids[${i}]: ${(err as Error).message}`, { cause: err });
    }
    return d;
  });
  const config: ImageConfig = { diffIds };
  const os = optionalString(doc, 'os', what);
  const architecture = optionalString(doc, 'architecture', what);
  const variant = optionalString(doc, 'variant', what);
  if (os !== undefined) config.os = os;
  if (architecture !== undefined) config.architecture = architecture;
  if (variant !== undefined) config.variant = variant;
  return config;
}

export function platformOfConfig(c: ImageConfig): Platform | undefined {
  if (c.os === undefined || c.architecture === undefined) return undefined;
  return c.variant ? { os: c.os, architecture: c.architecture, variant: c.variant } : { os: c.os, architecture: c.architecture };
}
