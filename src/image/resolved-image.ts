import type { Readable } from 'node:stream';
import type { BlobChunks } from './blob-chunks.ts';

// What every image source (oci-layout.ts, docker-archive.ts, registry/registry-image.ts) produces and the indexer
// consumes. Apart from image-source.ts, which imports the sources, so that they do not import it back.

export interface LayerDescriptor {
  /** "sha256:<hex>" of the blob as stored (compressed bytes). */
  digest: string;
  /** Bytes, when known. */
  size?: number;
  mediaType?: string;
  /** "sha256:<hex>" of the uncompressed tar, from the image config rootfs.diff_ids when known. */
  diffId?: string;
  /**
   * Set for `dir:` references only: the absolute path of a directory tree that is this layer. The indexer walks it
   * instead of opening a blob (openLayer rejects).
   */
  directory?: string;
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
  /**
   * The same bytes as openLayer, with the same checks, as BlobChunks: for sources that read layers from files, which
   * can lend reused buffers instead of allocating a buffer per chunk (blob-chunks.ts). Sources without it are read
   * through openLayer.
   */
  readLayer?(layer: LayerDescriptor): Promise<BlobChunks>;
  /** Ends streams still open; openLayer fails afterwards. */
  close(): Promise<void>;
}
