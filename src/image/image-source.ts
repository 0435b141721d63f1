// Where image bytes come from. One entry point, openImage(reference), for every local image source;
// the indexer sees only ResolvedImage and never learns whether the bytes sit in a folder or a tar.
//
// References:
//   oci:PATH[:TAG]                 OCI image layout folder (oci-layout.ts)
//   docker-archive:PATH[:REPO:TAG] `docker save` tar, classic or Docker 25+ OCI layout (docker-archive.ts)
// How PATH is told apart from TAG is documented in image-reference.ts.

import type { Readable } from 'node:stream';
import { openDockerArchive } from './docker-archive.ts';
import { parseImageReference } from './image-reference.ts';
import { openOciLayout } from './oci-layout.ts';
import { hostPlatform, parsePlatform, type Platform } from './platform.ts';

export interface LayerDescriptor {
  /** "sha256:<hex>" of the blob as stored (compressed bytes). */
  digest: string;
  /** Bytes, when known. */
  size?: number;
  mediaType?: string;
  /** "sha256:<hex>" of the uncompressed tar, from the image config rootfs.diff_ids when known. */
  diffId?: string;
}

export interface ResolvedImage {
  /** What the user typed, e.g. "oci:/path:tag". */
  reference: string;
  /**
   * "sha256:<hex>" of the image manifest bytes. A classic `docker save` archive has no manifest blob;
   * there it is the sha256 of a canonical OCI manifest synthesized from the config and layer digests
   * (see synthesizedManifest in docker-archive.ts), stable for the same image content.
   */
  manifestDigest: string;
  configDigest?: string;
  platform?: { os: string; architecture: string; variant?: string };
  /** Base first. */
  layers: LayerDescriptor[];
  /**
   * Opens the layer's blob bytes (still compressed; see decompressLayer in layer-stream.ts). The
   * stream errors with ClairError('digest-mismatch') at its end if the bytes do not hash to the
   * digest. A blob that is missing makes the promise reject with ClairError('not-found').
   * The returned object is a node:stream Readable (so also a NodeJS.ReadableStream).
   */
  openLayer(layer: LayerDescriptor): Promise<Readable>;
  /** Ends streams still open; openLayer fails afterwards. */
  close(): Promise<void>;
}

export interface OpenImageOptions {
  /** "os/arch[/variant]" to choose among the entries of an image index; default: this machine's (platform.ts). */
  platform?: string;
}

/**
 * Resolves a reference to an image. Throws ClairError: 'bad-input' (unknown prefix, malformed
 * reference or platform, ambiguous choice), 'not-found' (path, tag, platform or blob absent),
 * 'bad-image' (unreadable layout/archive/JSON), 'unsupported' (schema 1, unknown digest algorithm).
 */
export async function openImage(ref: string, opts: OpenImageOptions = {}): Promise<ResolvedImage> {
  const platform: Platform = opts.platform !== undefined ? parsePlatform(opts.platform) : hostPlatform();
  const parsed = await parseImageReference(ref);
  switch (parsed.transport) {
    case 'oci':
      return openOciLayout(ref, parsed.path, parsed.tag, platform);
    case 'docker-archive':
      return openDockerArchive(ref, parsed.path, parsed.imageName);
  }
}
