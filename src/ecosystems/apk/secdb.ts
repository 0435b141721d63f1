import { ClairError } from '../../model/errors.ts';
import { newVulnerability, type Vulnerability } from '../../model/vulnerability.ts';

// The secdb format of Alpine (https://secdb.alpinelinux.org/, one document per branch and repository), which Wolfi
// and Chainguard publish too (their security.json):
//   { distroversion?: "v3.20", reponame: "main", urlprefix, apkurl, archs,
//     packages: [ { pkg: { name: <origin package>, secfixes: { <fixed version>: [ "CVE-…", … ], "0": [ … ] } } } ] }
// A secfix lists the issues fixed in that version of the package: versions before it are affected. The version "0"
// means the package was never affected by those issues (e.g. the vulnerable code is not built): no record, so they
// are never reported. Entries may carry text after the id ("CVE-2019-1234 (regression)", "XSA-123"): the first word
// is the id. Versions apk calls invalid do occur (e.g. "5.1p1-r0" for apk 3): they are kept and compared the way
// apk compares them.

export interface SecdbContext {
  /** The updater's name, stored with each record. */
  updater: string;
  /** The distribution every record belongs to (fields left "" do not constrain matching). */
  dist: Vulnerability['dist'];
  versionScheme: string;
  /** The advisory page of an issue id. */
  link: (id: string) => string;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The top-level fields of a secdb document other than its packages, for the caller to pick the context. */
export function secdbHeader(doc: Json, location: string): { distroversion: string; reponame: string; urlprefix: string } {
  if (!isObject(doc)) throw new ClairError('bad-feed', `${location}: expected a secdb JSON object`);
  if (!Array.isArray(doc['packages'])) throw new ClairError('bad-feed', `${location}: "packages" is missing or not a list`);
  const str = (k: string): string => (typeof doc[k] === 'string' ? (doc[k] as string) : '');
  return { distroversion: str('distroversion'), reponame: str('reponame'), urlprefix: str('urlprefix') };
}

/** The records of one secdb document. Throws ClairError('bad-feed') naming the part that does not fit. */
export function secdbRecords(doc: Json, ctx: SecdbContext, location: string): Vulnerability[] {
  secdbHeader(doc, location);
  const repo = isObject(doc) && typeof doc['reponame'] === 'string' ? doc['reponame'] : '';
  const out: Vulnerability[] = [];
  const packages = (doc as { packages: Json[] }).packages;
  packages.forEach((entry, i) => {
    const where = `${location}: packages[${i}]`;
    const pkg = isObject(entry) ? entry['pkg'] : undefined;
    if (!isObject(pkg) || typeof pkg['name'] !== 'string' || pkg['name'] === '') {
      throw new ClairError('bad-feed', `${where}: expected {"pkg": {"name": …, "secfixes": …}}`);
    }
    const name = pkg['name'];
    const secfixes = pkg['secfixes'];
    if (secfixes === undefined || secfixes === null) return;
    if (!isObject(secfixes)) throw new ClairError('bad-feed', `${where} (${name}): "secfixes" is not an object`);
    const seen = new Set<string>();
    for (const [rawVersion, ids] of Object.entries(secfixes)) {
      const fixed = rawVersion.trim();
      if (fixed === '0' || fixed === '') continue; // never affected
      if (ids === null) continue;
      if (!Array.isArray(ids)) throw new ClairError('bad-feed', `${where} (${name}): secfixes[${JSON.stringify(rawVersion)}] is not a list`);
      for (const raw of ids) {
        if (typeof raw !== 'string') throw new ClairError('bad-feed', `${where} (${name}): secfixes[${JSON.stringify(rawVersion)}] holds a non-string`);
        const id = raw.trim().split(/\s+/)[0] ?? '';
        if (id === '' || seen.has(`${id}\u0000${fixed}`)) continue;
        seen.add(`${id}\u0000${fixed}`);
        out.push(
          newVulnerability({
            updater: ctx.updater,
            name: id,
            links: ctx.link(id),
            package: { name, kind: 'source', module: '', arch: '' },
            dist: { ...ctx.dist },
            repo: { name: repo, key: '', uri: '', cpe: '' },
            fixedInVersion: fixed,
            versionScheme: ctx.versionScheme,
          }),
        );
      }
    }
  });
  return out;
}

/** Parse a document's bytes as JSON, as bad-feed naming the location when it is not. */
export function parseJsonDocument(data: Buffer, location: string): Json {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data)) as Json;
  } catch (e) {
    throw new ClairError('bad-feed', `${location}: not a JSON document: ${(e as Error).message}`, { cause: e });
  }
}
