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
  /**
   * Language packages only: the OS package whose file list holds this package's metadata file (Debian's
   * python3-jinja2 owns usr/lib/python3/dist-packages/Jinja2-3.1.2.egg-info/PKG-INFO). Its vulnerabilities then come
   * from the OS feed, so language matchers skip it. Set by coalescing, never by a scanner.
   */
  ownedBy?: PackageOwner;
}

/** An OS package (dpkg, rpm, apk) that owns a language package's files. */
export interface PackageOwner {
  name: string;
  version: string;
  /** The OS package database it is listed in, e.g. "var/lib/dpkg/status". */
  packageDb: string;
}

/** Identity of a package within one package database: what "the same package" means across layers. */
export function packageKey(p: Package): string {
  return [p.name, p.version, p.arch, p.module, p.source?.name ?? '', p.source?.version ?? ''].join('\u0000');
}
