import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DigestVerifier } from '../image/digest-verifier.ts';
import type { LayerDescriptor, ResolvedImage } from '../image/resolved-image.ts';
import { openBlobUrl } from '../image/registry/index.ts';
import type { RetryPolicy } from '../image/registry/http-transport.ts';
import { ClairError } from '../model/errors.ts';
import { layerFetch } from './address-guard.ts';

// Clair's Manifest ({hash, layers: [{hash, uri, headers}]}) as a ResolvedImage: the indexer asks for a layer
// only when its store has no report for that digest, and then the bytes come from the layer's URI with the
// headers the client gave, verified against the layer hash as they stream.

export interface ManifestLayer {
  hash: string;
  uri: string;
  /** As Clair carries them: header name → values. Never logged: they usually hold registry credentials. */
  headers: Record<string, string[]>;
  mediaType?: string;
}

export interface Manifest {
  hash: string;
  layers: ManifestLayer[];
}

export interface LayerFetchPolicy {
  allowFileUris: boolean;
  allowPrivateAddresses: boolean;
  retry?: Partial<RetryPolicy>;
}

/** Refuses, before any fetch, layer URIs the policy does not allow. */
export function checkManifestPolicy(m: Manifest, policy: LayerFetchPolicy): void {
  m.layers.forEach((l, i) => {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(l.uri)?.[1]?.toLowerCase();
    if (scheme === 'file' && !policy.allowFileUris) {
      throw new ClairError('bad-input', `manifest ${m.hash} layers[${i}] ${l.hash}: file:// layer URIs are refused; set indexer.allow_file_uris to allow them`);
    }
    if (scheme !== 'file' && scheme !== 'http' && scheme !== 'https') {
      throw new ClairError('bad-input', `manifest ${m.hash} layers[${i}] ${l.hash}: layer URI scheme ${scheme ?? '(none)'} is not supported (http, https${policy.allowFileUris ? ', file' : ''})`);
    }
  });
}

export async function openManifestLayer(layer: ManifestLayer, policy: LayerFetchPolicy): Promise<Readable> {
  if (/^file:/i.test(layer.uri)) {
    if (!policy.allowFileUris) throw new ClairError('bad-input', `layer ${layer.hash}: file:// layer URIs are refused; set indexer.allow_file_uris to allow them`);
    let path: string;
    try {
      path = fileURLToPath(layer.uri);
    } catch (e) {
      throw new ClairError('bad-input', `layer ${layer.hash}: ${layer.uri} is not a file URL: ${(e as Error).message}`, { cause: e });
    }
    try {
      if (!(await stat(path)).isFile()) throw new ClairError('bad-input', `layer ${layer.hash}: ${path} is not a file`);
    } catch (e) {
      if (e instanceof ClairError) throw e;
      throw new ClairError('not-found', `layer ${layer.hash}: ${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
    }
    return pipeline(createReadStream(path), new DigestVerifier(layer.hash), () => {});
  }
  return openBlobUrl(layer.uri, {
    headers: layer.headers,
    digest: layer.hash,
    fetch: layerFetch(policy.allowPrivateAddresses),
    ...(policy.retry ? { retry: policy.retry } : {}),
  });
}

/** The manifest as an image; `onOpen` is told of every layer actually fetched (the cache misses). */
export function manifestImage(m: Manifest, policy: LayerFetchPolicy, onOpen?: (layer: ManifestLayer) => void): ResolvedImage {
  const byDigest = new Map(m.layers.map((l) => [l.hash, l]));
  const open = new Set<Readable>();
  return {
    reference: `manifest ${m.hash}`,
    manifestDigest: m.hash,
    layers: m.layers.map((l): LayerDescriptor => (l.mediaType ? { digest: l.hash, mediaType: l.mediaType } : { digest: l.hash })),
    openLayer: async (d) => {
      const layer = byDigest.get(d.digest);
      if (!layer) throw new ClairError('internal', `manifest ${m.hash} has no layer ${d.digest}`);
      onOpen?.(layer);
      const s = await openManifestLayer(layer, policy);
      open.add(s);
      s.once('close', () => open.delete(s));
      return s;
    },
    close: async () => {
      for (const s of open) s.destroy();
      open.clear();
    },
  };
}
