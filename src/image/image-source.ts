// Where image bytes come from. One entry point, openImage(reference), for every local image source;
// the indexer sees only ResolvedImage and never learns whether the bytes sit in a folder or a tar.
//
// References:
//   oci:PATH[:TAG]                 OCI image layout folder (oci-layout.ts)
//   docker-archive:PATH[:REPO:TAG] `docker save` tar, classic or Docker 25+ OCI layout (docker-archive.ts)
//   dir:PATH                       a directory tree as an image of one layer (directory-tree.ts)
// How PATH is told apart from TAG is documented in image-reference.ts.

import { parseImageReference } from './image-reference.ts';
import { hostPlatform, parsePlatform, type Platform } from './platform.ts';
import type { ResolvedImage } from './resolved-image.ts';

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
  // Each transport's reader is loaded when a reference names it: a warm scan of an OCI layout needs neither the
  // archive reader (tar index, decompressors) nor the directory walker.
  switch (parsed.transport) {
    case 'oci':
      return (await import('./oci-layout.ts')).openOciLayout(ref, parsed.path, parsed.tag, platform);
    case 'docker-archive':
      return (await import('./docker-archive.ts')).openDockerArchive(ref, parsed.path, parsed.imageName);
    case 'dir':
      return (await import('./directory-tree.ts')).openDirectoryImage(ref, parsed.path);
  }
}
