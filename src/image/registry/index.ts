// Registry images (OCI distribution-spec v1.1 pull): `docker.io/library/debian:bookworm`,
// `quay.io/org/app@sha256:…`, `localhost:5000/app:1.2`.

export { parseReference, formatReference, manifestReference, apiHost, type ImageReference } from './reference.ts';
export { openRegistryImage, MANIFEST_ACCEPT, type RegistryOptions, type RegistryProgress } from './registry-image.ts';
export { openBlobUrl, type BlobUrlOptions } from './blob-url.ts';
export type { BlobProgress } from './blob-download.ts';
export { findCredentials, type Credentials } from './credentials.ts';
export { TokenCache } from './registry-auth.ts';
