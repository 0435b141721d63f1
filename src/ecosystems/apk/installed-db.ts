import type { Package } from '../../model/package.ts';
import { textLines } from '../../model/text-lines.ts';

// apk's database of installed packages, lib/apk/db/installed (apk-tools 2 and 3 write the same text form): one
// block per package, blocks separated by blank lines, each line "X:value" with a one-letter key. The keys read here
// (apk-tools' doc/apk-package.5 and src/database.c):
//   P name   V version   A architecture   o origin (the aports package it was built from: what secdb is keyed by)
//   F a folder (path relative to the root)   R a file in the last F folder
// Everything else (C checksum, L licence, T description, D dependencies, Z file checksums, a/M ownership …) is
// skipped. A block without P or V is not a package (apk would refuse the database; we keep what is readable).

export const APK_INSTALLED_DB = 'lib/apk/db/installed';

export interface ApkInstalledPackage {
  name: string;
  version: string;
  arch: string;
  /** The origin package; the package's own name when the database has no o: line. */
  origin: string;
  /** Files the package installed, as paths relative to the root ("usr/lib/python3.12/site-packages/…"). */
  files: string[];
}

export function parseInstalledDb(text: string): ApkInstalledPackage[] {
  const out: ApkInstalledPackage[] = [];
  let cur: Partial<ApkInstalledPackage> & { files: string[] } = { files: [] };
  let folder = '';
  const flush = (): void => {
    if (cur.name && cur.version) {
      out.push({ name: cur.name, version: cur.version, arch: cur.arch ?? '', origin: cur.origin || cur.name, files: cur.files });
    }
    cur = { files: [] };
    folder = '';
  };
  for (const raw of textLines(text)) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') {
      flush();
      continue;
    }
    if (line.length < 2 || line[1] !== ':') continue;
    const value = line.slice(2);
    switch (line[0]) {
      case 'P':
        cur.name = value;
        break;
      case 'V':
        cur.version = value;
        break;
      case 'A':
        cur.arch = value;
        break;
      case 'o':
        cur.origin = value;
        break;
      case 'F':
        folder = value;
        break;
      case 'R':
        cur.files.push(folder ? `${folder}/${value}` : value);
        break;
    }
  }
  flush();
  return out;
}

/** The installed packages as clair-ts packages: the origin is the source package (name and, as apk has it, version). */
export function apkPackages(text: string, packageDb: string): Package[] {
  return parseInstalledDb(text).map((p) => ({
    name: p.name,
    version: p.version,
    kind: 'binary',
    source: { name: p.origin, version: p.version },
    arch: p.arch,
    module: '',
    cpe: '',
    packageDb,
    repositoryHint: '',
  }));
}
