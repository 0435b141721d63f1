// Where content-addressed blobs live: an OCI layout's blobs/ folder, or the entries of a `docker save`
// tar. Manifest selection (manifest-selection.ts) works against this, so both sources share it.

import type { Readable } from 'node:stream';
import type { Descriptor } from './oci-documents.ts';

/**
 * Manifests, indexes and configs are read into memory; layers never are. The cap keeps a hostile or
 * broken layout (a "manifest" that is really a layer) from using memory proportional to its size.
 */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

export interface BlobStore {
  /** For messages: "OCI layout /srv/img", "docker archive /tmp/x.tar". */
  readonly description: string;
  /** A small JSON blob, verified against its digest (and size when given). 'not-found' when absent. */
  readDocument(descriptor: Descriptor, what: string): Promise<Buffer>;
  /** A streamed blob that fails with 'digest-mismatch' at its end when the bytes differ. 'not-found' when absent. */
  openBlob(descriptor: Descriptor, what: string): Promise<Readable>;
}
