// Choosing one image manifest out of an OCI index.json: by tag (org.opencontainers.image.ref.name),
// then through nested image indexes by platform. Every failure lists what was there to choose from.

import { ClairError } from '../model/errors.ts';
import type { BlobStore } from './blob-store.ts';
import { shortDigest } from './digest.ts';
import {
  parseImageConfig,
  parseManifestOrIndex,
  platformOfConfig,
  REF_NAME_ANNOTATION,
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
} from './oci-documents.ts';
import { choosePlatform, formatPlatform, type Platform } from './platform.ts';

export interface SelectedManifest {
  descriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
  configDigest: string;
  /** The config's platform, else the one the index declared for the manifest. */
  platform?: Platform;
}

// Index → index → manifest is as deep as real layouts go; the bound stops a reference cycle.
const MAX_INDEX_DEPTH = 4;

export interface ManifestChoice {
  tag?: string;
  platform: Platform;
}

export async function selectManifest(store: BlobStore, index: ImageIndex, indexName: string, choice: ManifestChoice): Promise<SelectedManifest> {
  let candidates = index.manifests;
  if (choice.tag !== undefined) {
    candidates = candidates.filter((d) => d.annotations?.[REF_NAME_ANNOTATION] === choice.tag);
    if (candidates.length === 0) {
      throw new ClairError('not-found', `tag ${JSON.stringify(choice.tag)} not found in ${store.description}; available: ${describeRefNames(index)}`);
    }
  }
  if (candidates.length === 0) throw new ClairError('bad-image', `${store.description}: ${indexName} lists no manifests`);
  if (candidates.length === 1) return descend(store, candidates[0]!, choice.platform, 0);
  // Several entries: a layout written by `docker buildx --output type=oci` or `oras` can list one
  // manifest per platform directly in index.json, without ref names; that is an index to choose
  // from by platform. Anything else is a set of different images, and the user must name one.
  if (candidates.every((d) => d.platform !== undefined)) {
    return descend(store, pickByPlatform(store, candidates, choice.platform, indexName), choice.platform, 0);
  }
  throw new ClairError(
    'bad-input',
    `${store.description} holds ${candidates.length} images${choice.tag !== undefined ? ` tagged ${JSON.stringify(choice.tag)}` : ''}; name one with :TAG. Available: ${describeRefNames(index)}`,
  );
}

async function descend(store: BlobStore, descriptor: Descriptor, platform: Platform, depth: number): Promise<SelectedManifest> {
  const what = `manifest ${descriptor.digest}`;
  const doc = parseManifestOrIndex(await store.readDocument(descriptor, what), `${store.description}: ${what}`, descriptor.mediaType);
  if (doc.kind === 'index') {
    if (depth >= MAX_INDEX_DEPTH) throw new ClairError('bad-image', `${store.description}: image indexes nested more than ${MAX_INDEX_DEPTH} deep at ${descriptor.digest}`);
    const images = doc.manifests.filter((d) => !isAttestation(d));
    const next = images.length === 1 && images[0]!.platform === undefined ? images[0]! : pickByPlatform(store, images, platform, `image index ${shortDigest(descriptor.digest)}`);
    return descend(store, next, platform, depth + 1);
  }
  const configWhat = `config ${doc.config.digest}`;
  const config = parseImageConfig(await store.readDocument(doc.config, configWhat), `${store.description}: ${configWhat}`);
  if (config.diffIds.length !== doc.layers.length) {
    throw new ClairError('bad-image', `${store.description}: ${what} lists ${doc.layers.length} layers but its config has ${config.diffIds.length} rootfs.diff_ids`);
  }
  const selected: SelectedManifest = { descriptor, manifest: doc, config, configDigest: doc.config.digest };
  const p = platformOfConfig(config) ?? descriptor.platform;
  if (p) selected.platform = p;
  return selected;
}

function pickByPlatform(store: BlobStore, entries: readonly Descriptor[], wanted: Platform, where: string): Descriptor {
  const chosen = choosePlatform(wanted, entries);
  if (chosen) return chosen;
  const available = entries.map((d) => (d.platform ? formatPlatform(d.platform) : `(no platform) ${shortDigest(d.digest)}`));
  throw new ClairError('not-found', `${store.description}: no image for platform ${formatPlatform(wanted)} in ${where}; available platforms: ${available.join(', ') || '(none)'}; choose one with --platform`);
}

// BuildKit stores provenance/SBOM manifests in the index as platform unknown/unknown.
function isAttestation(d: Descriptor): boolean {
  return d.platform?.os === 'unknown' && d.platform.architecture === 'unknown';
}

function describeRefNames(index: ImageIndex): string {
  const names = index.manifests.map((d) => d.annotations?.[REF_NAME_ANNOTATION] ?? `(untagged ${shortDigest(d.digest)})`);
  return names.length > 0 ? names.join(', ') : '(none)';
}

/**
 * Finds, anywhere under `index`, the image manifest whose config is `configDigest` (how a `docker save`
 * archive's manifest.json entry is tied back to its real manifest blob). Blobs the archive does not
 * carry (other platforms of a multi-platform index) are skipped; undefined when none matches.
 */
export async function findManifestByConfig(store: BlobStore, index: ImageIndex, configDigest: string, depth = 0): Promise<{ descriptor: Descriptor; manifest: ImageManifest } | undefined> {
  for (const d of index.manifests) {
    let doc: ImageIndex | ImageManifest;
    try {
      doc = parseManifestOrIndex(await store.readDocument(d, `manifest ${d.digest}`), `${store.description}: manifest ${d.digest}`, d.mediaType);
    } catch (err) {
      if (err instanceof ClairError && (err.code === 'not-found' || err.code === 'unsupported')) continue;
      throw err;
    }
    if (doc.kind === 'manifest') {
      if (doc.config.digest === configDigest) return { descriptor: d, manifest: doc };
    } else if (depth < MAX_INDEX_DEPTH) {
      const found = await findManifestByConfig(store, doc, configDigest, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}
