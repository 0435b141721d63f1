// openRegistryImage: a registry reference → ResolvedImage. The manifest is fetched by tag or digest
// (Accept: OCI index and manifest, Docker manifest list and schema 2), its digest computed over the raw
// bytes and checked against the digest asked for; an index is resolved to one platform by the same
// selection code as OCI layouts (manifest-selection.ts), with the registry as the blob store.

import { withIdleTimeout } from '../../model/idle-timeout-fetch.ts';
import type { Readable } from 'node:stream';
import { ClairError } from '../../model/errors.ts';
import type { BlobStore } from '../blob-store.ts';
import { digestOf, parseDigest, verifyBytes } from '../digest.ts';
import type { LayerDescriptor, ResolvedImage } from '../resolved-image.ts';
import { selectManifest } from '../manifest-selection.ts';
import { MediaType, type Descriptor } from '../oci-documents.ts';
import { hostPlatform, parsePlatform } from '../platform.ts';
import { StreamRegistry } from '../stream-registry.ts';
import type { BlobProgress } from './blob-download.ts';
import { fetchTrustingCa } from './ca-fetch.ts';
import { findCredentials } from './credentials.ts';
import { HttpTransport, type RetryPolicy } from './http-transport.ts';
import type { InsecureSetting } from './plain-http.ts';
import { apiHost, formatReference, manifestReference, parseReference, type ImageReference } from './reference.ts';
import { RegistryClient } from './registry-client.ts';
import type { TokenCache } from './registry-auth.ts';

export type RegistryProgress = BlobProgress & { reference: string };

export interface RegistryOptions {
  /** "os/arch[/variant]" chosen from a multi-platform image; default this machine's (platform.ts). */
  platform?: string;
  /** Registries allowed plain HTTP besides loopback ones: true for all, or host[:port] names. */
  insecure?: InsecureSetting;
  /** PEM CA certificate(s) trusted in addition to the public roots. */
  caFile?: string;
  username?: string;
  password?: string;
  /** Docker client config; default $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
  dockerConfigPath?: string;
  /** Blob bytes as they arrive and each blob verified ('blob-done'). */
  onProgress?: (e: RegistryProgress) => void;
  /** Replaces the global fetch (tests). */
  fetch?: typeof fetch;
  retry?: Partial<RetryPolicy>;
  /** Idle timeout of every exchange (DEFAULT_IDLE_TIMEOUT_MS). */
  idleTimeoutMs?: number;
  tokenCache?: TokenCache;
  /** Environment for CLAIR_TS_REGISTRY_* and DOCKER_CONFIG; default process.env. */
  env?: NodeJS.ProcessEnv;
}

// Preference order as `docker pull` sends it; schema 1 is left out on purpose (refused below).
export const MANIFEST_ACCEPT = [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest] as const;
const SCHEMA1_TYPES = new Set(['application/vnd.docker.distribution.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v1+prettyjws']);
const KNOWN_TYPES = new Set<string>(MANIFEST_ACCEPT);
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** Shared by openRegistryImage and openBlobUrl: the fetch to use, the transport over it. */
export async function makeTransport(opts: Pick<RegistryOptions, 'fetch' | 'caFile' | 'retry' | 'idleTimeoutMs'>): Promise<{ fetch: typeof fetch; transport: HttpTransport }> {
  const base = opts.fetch ?? fetch;
  // Every exchange has an idle timeout: a registry or storage server that stalls mid-body fails (and is retried).
  const f = withIdleTimeout(opts.caFile !== undefined ? await fetchTrustingCa(opts.caFile, base) : base, opts.idleTimeoutMs);
  return { fetch: f, transport: new HttpTransport({ fetch: f, ...(opts.retry ? { retry: opts.retry } : {}) }) };
}

export async function openRegistryImage(reference: string, opts: RegistryOptions = {}): Promise<ResolvedImage> {
  const ref = parseReference(reference);
  const platform = opts.platform !== undefined ? parsePlatform(opts.platform) : hostPlatform();
  const label = `registry image ${formatReference(ref)}`;
  const credentials = await findCredentials(ref.registry, {
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...(opts.dockerConfigPath !== undefined ? { dockerConfigPath: opts.dockerConfigPath } : {}),
    ...(opts.env !== undefined ? { env: opts.env } : {}),
  });
  const { fetch: f, transport } = await makeTransport(opts);
  const client = new RegistryClient({ host: apiHost(ref.registry), transport, credentials, insecure: opts.insecure, probeFetch: f, ...(opts.tokenCache ? { tokenCache: opts.tokenCache } : {}) });

  const top = await fetchManifest(client, ref, manifestReference(ref), label);
  const store = new RegistryBlobStore(client, ref, label, top);
  // The top document enters selection as the only entry of a one-entry index; selection then walks
  // index → manifest by platform exactly as it does for an OCI layout.
  const selected = await selectManifest(store, { kind: 'index', manifests: [top.descriptor] }, formatReference(ref), { platform });

  const layers: LayerDescriptor[] = selected.manifest.layers.map((l, i) => {
    const layer: LayerDescriptor = { digest: l.digest, diffId: selected.config.diffIds[i]! };
    if (l.size !== undefined) layer.size = l.size;
    if (l.mediaType !== undefined) layer.mediaType = l.mediaType;
    return layer;
  });
  const streams = new StreamRegistry(label);
  const onProgress = opts.onProgress;
  const text = formatReference(ref);
  const image: ResolvedImage = {
    reference,
    manifestDigest: selected.descriptor.digest,
    configDigest: selected.configDigest,
    layers,
    openLayer: async (layer: LayerDescriptor): Promise<Readable> => {
      streams.assertOpen();
      const blob = layer.size !== undefined ? { digest: layer.digest, size: layer.size } : { digest: layer.digest };
      const stream = await client.openBlob(ref.repository, blob, `${label}: layer ${layer.digest}`, onProgress ? (e) => onProgress({ ...e, reference: text }) : undefined);
      return streams.track(stream);
    },
    close: async () => streams.closeAll(),
  };
  if (selected.platform) image.platform = selected.platform;
  return image;
}

interface FetchedManifest {
  descriptor: Descriptor;
  bytes: Buffer;
}

async function fetchManifest(client: RegistryClient, ref: ImageReference, reference: string, label: string): Promise<FetchedManifest> {
  const what = `${label}: manifest ${reference}`;
  const doc = await client.getManifest(ref.repository, reference, MANIFEST_ACCEPT, what);
  if (SCHEMA1_TYPES.has(doc.contentType)) {
    throw new ClairError('unsupported', `${what} is a Docker schema 1 manifest (${doc.contentType}), which clair-ts does not read; push the image again with a current client or convert it (skopeo copy) to schema 2 or OCI`);
  }
  const byDigest = reference.includes(':');
  // Verify in the algorithm asked for; the identity clair-ts reports is always sha256 of the bytes.
  if (byDigest) verifyBytes(doc.bytes, reference, `${label}: manifest`);
  const digest = digestOf(doc.bytes);
  if (doc.headerDigest !== undefined && !byDigest) {
    const algorithm = safeAlgorithm(doc.headerDigest);
    if (algorithm !== undefined) verifyBytes(doc.bytes, doc.headerDigest, `${label}: manifest (Docker-Content-Digest)`);
  }
  const descriptor: Descriptor = { digest, size: doc.bytes.length };
  if (KNOWN_TYPES.has(doc.contentType)) descriptor.mediaType = doc.contentType;
  return { descriptor, bytes: doc.bytes };
}

function safeAlgorithm(digest: string): string | undefined {
  try {
    return parseDigest(digest).algorithm;
  } catch {
    return undefined; // a header we cannot check is not a reason to fail
  }
}

// Manifest selection asks for documents by descriptor: child manifests come from /manifests/<digest>,
// configs from /blobs/<digest>; both are verified against their digest and size here.
class RegistryBlobStore implements BlobStore {
  readonly description: string;
  readonly #client: RegistryClient;
  readonly #ref: ImageReference;
  readonly #top: FetchedManifest;

  constructor(client: RegistryClient, ref: ImageReference, label: string, top: FetchedManifest) {
    this.#client = client;
    this.#ref = ref;
    this.#top = top;
    this.description = label;
  }

  async readDocument(descriptor: Descriptor, what: string): Promise<Buffer> {
    if (descriptor.digest === this.#top.descriptor.digest) return this.#top.bytes;
    const isConfig = what.startsWith('config') || descriptor.mediaType === MediaType.ociConfig || descriptor.mediaType === MediaType.dockerConfig;
    const bytes = isConfig
      ? await this.#client.readBlob(this.#ref.repository, descriptor.digest, MAX_CONFIG_BYTES, `${this.description}: ${what}`)
      : (await fetchManifest(this.#client, this.#ref, descriptor.digest, this.description)).bytes;
    if (descriptor.size !== undefined && descriptor.size !== bytes.length) {
      throw new ClairError('digest-mismatch', `${this.description}: ${what}: expected ${descriptor.size} bytes, got ${bytes.length}`);
    }
    verifyBytes(bytes, descriptor.digest, `${this.description}: ${what}`);
    return bytes;
  }

  async openBlob(descriptor: Descriptor, what: string): Promise<Readable> {
    return this.#client.openBlob(this.#ref.repository, descriptor.size !== undefined ? { digest: descriptor.digest, size: descriptor.size } : { digest: descriptor.digest }, `${this.description}: ${what}`);
  }
}
