// Installed software found in a layer.
export type PackageKind = 'binary' | 'source';

export interface SourcePackage {
  name: string;
  version: string;
}

export interface Package {
  name: string;
  version: string;
  kind: PackageKind;
  /** The source package it was built from; for dpkg the `Source:` field (or the binary's own name and version). */
  source?: SourcePackage;
  arch: string;
  module: string;
  cpe: string;
  /** The package database it was read from, e.g. "var/lib/dpkg/status" or "python:usr/lib/python3/dist-packages/x.dist-info". */
  packageDb: string;
  /** Ecosystem-specific hint for repository matching (e.g. an rpm repository id). */
  repositoryHint: string;
}

/** Identity of a package within one package database: what "the same package" means across layers. */
export function packageKey(p: Package): string {
  return [p.name, p.version, p.arch, p.module, p.source?.name ?? '', p.source?.version ?? ''].join('\u0000');
}
