import type { ResolvedImage } from '../image/resolved-image.ts';
import { openImage } from '../image/image-source.ts';
import { isLocalReference } from '../image/image-reference.ts';
import type { RegistryProgress } from '../image/registry/index.ts';
import { ClairError } from '../model/errors.ts';
import type { CliIo } from './io.ts';
import { shortDigest } from './render-table.ts';

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

/** Image options shared by index and scan. */
export interface ImageFlags {
  db?: string;
  platform?: string;
  username?: string;
  passwordStdin?: boolean;
  insecure?: boolean;
  insecureRegistry?: string[];
  caFile?: string;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let s = '';
  for await (const c of stream) s += typeof c === 'string' ? c : Buffer.from(c).toString('utf8');
  return s;
}

/** The image `index` and `scan` name, resolved with the command's options (a registry's password from stdin). */
export async function openCommandImage(ref: string, opts: ImageFlags, io: CliIo): Promise<ResolvedImage> {
  if (opts.passwordStdin && opts.username === undefined) throw new ClairError('bad-input', '--password-stdin needs --username');
  const password = opts.passwordStdin ? (await readAll(io.stdin)).replace(/\r?\n$/, '') : undefined;
  let lastReport = 0;
  return openAnyImage(ref, {
    ...(opts.platform ? { platform: opts.platform } : {}),
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(password !== undefined ? { password } : {}),
    // Registries allowed over plain HTTP: --insecure (this image's), --insecure-registry, CLAIR_TS_INSECURE_REGISTRIES.
    ...(opts.insecure ? { insecure: true } : {}),
    insecureRegistry: [...(opts.insecureRegistry ?? []), ...(io.env.CLAIR_TS_INSECURE_REGISTRIES ?? '').split(',').map((h) => h.trim()).filter(Boolean)],
    ...(opts.caFile ? { caFile: opts.caFile } : {}),
    env: io.env,
    onProgress: (e) => {
      if (!io.isTTY || e.type !== 'blob-bytes' || performance.now() - lastReport < 500) return;
      lastReport = performance.now();
      io.stderr(`  ${shortDigest(e.digest)} ${(e.bytes / 1e6).toFixed(1)}${e.total ? `/${(e.total / 1e6).toFixed(1)}` : ''} MB\n`);
    },
  });
}
