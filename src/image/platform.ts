// Platforms as OCI names them (image-index.md#platform-variants, Go's GOOS/GOARCH values), and the
// choice of one manifest out of an image index.

import { ClairError } from '../model/errors.ts';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** Parses "os/arch[/variant]", e.g. "linux/arm64" or "linux/arm/v7". */
export function parsePlatform(s: string): Platform {
  const parts = s.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '' || !/^[a-z0-9._-]+$/i.test(p))) {
    throw new ClairError('bad-input', `platform ${JSON.stringify(s)} is not of the form os/arch[/variant] (e.g. linux/amd64, linux/arm/v7)`);
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return variant === undefined ? { os: os.toLowerCase(), architecture: architecture.toLowerCase() } : { os: os.toLowerCase(), architecture: architecture.toLowerCase(), variant: variant.toLowerCase() };
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

// Node's process.arch → GOARCH, the vocabulary of image configs and indexes.
const ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le', // Node only runs on little-endian ppc64 Linux
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/**
 * The platform of this machine in OCI terms. The OS is "linux" everywhere but Windows: on macOS,
 * containers run in a Linux VM, so a darwin image never exists and "linux" is what a user there means
 * (Docker Desktop defaults the same way).
 */
export function hostPlatform(): Platform {
  const os = process.platform === 'win32' ? 'windows' : 'linux';
  const architecture = ARCH[process.arch] ?? process.arch;
  return { os, architecture };
}

// Variants a platform has when it names none (containerd's platforms.Normalize does the same).
function normalizedVariant(p: Platform): string | undefined {
  if (p.variant) return p.variant;
  if (p.architecture === 'arm64') return 'v8';
  return undefined;
}

/** Does `candidate` (from an index) satisfy `wanted` (from the user)? A wanted platform without variant accepts any variant. */
export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  if (wanted.os !== candidate.os || wanted.architecture !== candidate.architecture) return false;
  if (wanted.variant === undefined) return true;
  return normalizedVariant(wanted) === normalizedVariant(candidate);
}

/**
 * Picks the one entry matching `wanted`. When `wanted` names no variant and several variants match
 * (linux/arm/v6 and linux/arm/v7), the newest variant wins, as `docker pull` on such a host would.
 * Returns undefined when nothing matches; the caller names the choices in its error.
 */
export function choosePlatform<T extends { platform?: Platform | undefined }>(wanted: Platform, entries: readonly T[]): T | undefined {
  const matching = entries.filter((e) => e.platform !== undefined && platformMatches(wanted, e.platform));
  if (matching.length <= 1) return matching[0];
  return [...matching].sort((a, b) => variantRank(b.platform!) - variantRank(a.platform!))[0];
}

function variantRank(p: Platform): number {
  const m = /^v(\d+)$/.exec(normalizedVariant(p) ?? '');
  return m ? Number(m[1]) : 0;
}
