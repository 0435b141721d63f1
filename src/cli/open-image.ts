import type { ResolvedImage } from '../image/resolved-image.ts';
import { openImage } from '../image/image-source.ts';
import { isLocalReference } from '../image/image-reference.ts';
import type { RegistryProgress } from '../image/registry/index.ts';

// A reference with a local transport prefix (image-reference.ts, LOCAL_TRANSPORTS) is local; anything else is a
// registry reference.
export interface OpenImageOptions {
  platform?: string;
  username?: string;
  password?: string;
  insecure?: boolean;
  insecureRegistry?: string[];
  caFile?: string;
  env?: NodeJS.ProcessEnv;
  onProgress?: (e: RegistryProgress) => void;
}

export async function openAnyImage(ref: string, opts: OpenImageOptions): Promise<ResolvedImage> {
  if (isLocalReference(ref)) return openImage(ref, opts.platform ? { platform: opts.platform } : {});
  // The registry client (HTTP, auth, credential helpers) is loaded only for a registry reference.
  const { openRegistryImage } = await import('../image/registry/index.ts');
  return openRegistryImage(ref, {
    ...(opts.platform ? { platform: opts.platform } : {}),
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...(opts.insecure ? { insecure: true } : opts.insecureRegistry?.length ? { insecure: opts.insecureRegistry } : {}),
    ...(opts.caFile ? { caFile: opts.caFile } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
}
