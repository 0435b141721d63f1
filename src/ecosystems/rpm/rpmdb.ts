import { basename } from 'node:path';
import { ClairError } from '../../model/errors.ts';
import { bdbHashByteOrder, readBdbHeaders } from './bdb.ts';
import { headerFileNames, parseHeaderBlob, RpmTag, type RpmHeader, type StoredHeader } from './header.ts';
import { isNdb, readNdbHeaders } from './ndb.ts';
import { isSqlite, readSqliteHeaders } from './sqlite-db.ts';

// The single entry point for rpm package databases: given the files of one rpmdb folder (var/lib/rpm or
// usr/lib/sysimage/rpm), detect the backend by file name and magic, read every header, and map it to an RpmPackage.

export type RpmDbFormat = 'sqlite' | 'ndb' | 'bdb';

export interface RpmDbFile {
  path: string;
  data: Buffer;
}

export interface RpmPackage {
  name: string;
  /** Only when the header has an EPOCH tag (rpm prints "(none)" otherwise); evr() then leaves it out. */
  epoch?: number;
  version: string;
  release: string;
  /** ARCH; "" when absent. */
  arch: string;
  /** SOURCERPM as stored, e.g. "util-linux-2.32.1-42.el8_8.src.rpm"; "" when absent. */
  sourceRpm: string;
  /** Name of the source package, from sourceRpm; "" when sourceRpm is absent or not NAME-VERSION-RELEASE.src.rpm. */
  sourceName: string;
  /** "VERSION-RELEASE" of the source package. SOURCERPM has no epoch, so neither has this. */
  sourceVersion: string;
  /** "name:stream" from MODULARITYLABEL "name:stream:version:context" (claircore's ModuleStream); "" if not modular. */
  module: string;
  vendor: string;
  license: string;
  /** Installed size in bytes: LONGSIZE when present, else SIZE. */
  size: number;
  /** Absolute paths the package owns, as `rpm -ql` prints them; only with { files: true }. */
  files?: string[];
}

export interface ReadRpmOptions {
  /** Also decode each package's file list (DIRNAMES/BASENAMES/DIRINDEXES, or old FILENAMES). */
  files?: boolean;
}

/** The file names each backend uses; a scanner can ask for exactly these inside an rpmdb folder. */
export const RPMDB_FILE_NAMES: Readonly<Record<RpmDbFormat, readonly string[]>> = {
  sqlite: ['rpmdb.sqlite', 'rpmdb.sqlite-wal'],
  ndb: ['Packages.db'],
  bdb: ['Packages'],
};

/** The package database among `files`: by name, confirmed by magic. When several exist, the newest backend wins. */
export function detectRpmDb(files: RpmDbFile[]): { format: RpmDbFormat; file: RpmDbFile; wal?: RpmDbFile } | undefined {
  const byName = (n: string) => files.find((f) => basename(f.path) === n);
  const sqlite = byName('rpmdb.sqlite');
  if (sqlite) {
    if (!isSqlite(sqlite.data)) throw new ClairError('bad-database', `${sqlite.path}: not an SQLite database (no "SQLite format 3" magic)`);
    const wal = byName('rpmdb.sqlite-wal');
    return { format: 'sqlite', file: sqlite, ...(wal ? { wal } : {}) };
  }
  const ndb = byName('Packages.db');
  if (ndb) {
    if (!isNdb(ndb.data)) throw new ClairError('bad-database', `${ndb.path}: not an rpm ndb package database (no "RpmP" magic)`);
    return { format: 'ndb', file: ndb };
  }
  const bdb = byName('Packages');
  if (bdb) {
    if (!bdbHashByteOrder(bdb.data)) throw new ClairError('bad-database', `${bdb.path}: not a Berkeley DB hash database (no 0x061561 magic)`);
    return { format: 'bdb', file: bdb };
  }
  return undefined;
}

/** Every header record of the database, in header-number (install) order. */
export function readStoredHeaders(files: RpmDbFile[]): { path: string; headers: StoredHeader[] } {
  const db = detectRpmDb(files);
  if (!db) {
    throw new ClairError('not-found', `no rpm database (rpmdb.sqlite, Packages.db or Packages) among ${files.map((f) => f.path).join(', ') || 'no files'}`);
  }
  const { path, data } = db.file;
  switch (db.format) {
    case 'sqlite':
      return { path, headers: readSqliteHeaders(data, path, db.wal?.data) };
    case 'ndb':
      return { path, headers: readNdbHeaders(data, path) };
    case 'bdb':
      return { path, headers: readBdbHeaders(data, path) };
  }
}

/**
 * The packages of one rpm database. gpg-pubkey "packages" (imported signing keys, which `rpm -qa` does list) are
 * skipped: they own no files and have no version to match, as in claircore.
 */
export async function readRpmDatabase(files: RpmDbFile[], options: ReadRpmOptions = {}): Promise<RpmPackage[]> {
  const { path, headers } = readStoredHeaders(files);
  const out: RpmPackage[] = [];
  for (const { hnum, blob } of headers) {
    const h = parseHeaderBlob(blob, `rpm header #${hnum} in ${path}`);
    const p = packageFromHeader(h, options);
    if (p) out.push(p);
  }
  return out;
}

/** The package a header describes; undefined for gpg-pubkey. */
export function packageFromHeader(h: RpmHeader, options: ReadRpmOptions = {}): RpmPackage | undefined {
  const required = (tag: number, what: string): string => {
    const v = h.string(tag);
    if (v === undefined) throw new ClairError('bad-database', `${h.label}: no ${what} tag`);
    return v;
  };
  const name = required(RpmTag.NAME, 'NAME');
  if (name === 'gpg-pubkey') return undefined;
  const sourceRpm = h.string(RpmTag.SOURCERPM) ?? '';
  const source = parseSourceRpm(sourceRpm);
  const epoch = h.integer(RpmTag.EPOCH);
  const p: RpmPackage = {
    name,
    ...(epoch !== undefined ? { epoch } : {}),
    version: required(RpmTag.VERSION, 'VERSION'),
    release: required(RpmTag.RELEASE, 'RELEASE'),
    arch: h.string(RpmTag.ARCH) ?? '',
    sourceRpm,
    sourceName: source?.name ?? '',
    sourceVersion: source?.version ?? '',
    module: moduleStream(h.string(RpmTag.MODULARITYLABEL) ?? ''),
    vendor: h.string(RpmTag.VENDOR) ?? '',
    license: h.string(RpmTag.LICENSE) ?? '',
    size: h.integer(RpmTag.LONGSIZE) ?? h.integer(RpmTag.SIZE) ?? 0,
  };
  if (options.files) p.files = headerFileNames(h);
  return p;
}

/** `%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}`: the epoch only when the header has one (even 0). */
export function evr(p: Pick<RpmPackage, 'epoch' | 'version' | 'release'>): string {
  return (p.epoch !== undefined ? `${p.epoch}:` : '') + `${p.version}-${p.release}`;
}

/**
 * "NAME-VERSION-RELEASE.src.rpm" (or .nosrc.rpm) → NAME and "VERSION-RELEASE", splitting at the last two dashes
 * (VERSION and RELEASE cannot contain one). undefined when it does not have that shape.
 */
export function parseSourceRpm(sourceRpm: string): { name: string; version: string } | undefined {
  const m = /^(.+)\.(?:no)?src\.rpm$/.exec(sourceRpm);
  if (!m) return undefined;
  const nvr = m[1]!;
  const r = nvr.lastIndexOf('-');
  const v = r > 0 ? nvr.lastIndexOf('-', r - 1) : -1;
  if (v <= 0 || r === nvr.length - 1 || v === r - 1) return undefined;
  return { name: nvr.slice(0, v), version: nvr.slice(v + 1) };
}

/** MODULARITYLABEL "name:stream:version:context" → "name:stream"; "" unless the label has at least three parts. */
export function moduleStream(label: string): string {
  const parts = label.split(':');
  if (parts.length < 3) return '';
  return `${parts[0]}:${parts[1]}`;
}
