import type { ResolvedImage } from '../image/image-source.ts';
import { openImage } from '../image/image-source.ts';

// oci:PATH[:TAG] and docker-archive:PATH are local; anything else is a registry reference.
export interface OpenImageOptions {
  platform?: string;
}

export async function openAnyImage(ref: string, opts: OpenImageOptions): Promise<ResolvedImage> {
  return openImage(ref, opts.platform ? { platform: opts.platform } : {});
}
