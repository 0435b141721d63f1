// Real version strings for the language vector generators (scripts/gen-*-vectors.ts), read from the OSV
// and advisory feeds in ../shared/data/feeds/osv: every `introduced`/`fixed`/`last_affected`/`limit`
// event value and every `versions` entry of OSV records (JSON, PyPA's YAML, the GHSA slices, the Maven
// zips), plus the requirement strings of RustSec (`patched`/`unaffected`) and rubysec (`patched_versions`/
// `unaffected_versions`). Versions are grouped by package so generators can pair versions of one package.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';

export const SHARED = process.env.CLAIR_TS_SHARED ?? join(import.meta.dirname, '../../../shared');
const OSV = join(SHARED, 'data/feeds/osv');

export interface FeedVersions {
  /** package name -> distinct versions seen for it */
  byPackage: Map<string, Set<string>>;
  /** where the strings came from, for the vector file header */
  sources: string[];
}

function walk(dir: string, suffixes: string[]): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p, suffixes));
    else if (suffixes.some((s) => name.endsWith(s))) out.push(p);
  }
  return out.sort();
}

interface OsvRecord {
  affected?: Array<{
    package?: { name?: string; ecosystem?: string };
    ranges?: Array<{ events?: Array<Record<string, string>> }>;
    versions?: string[];
  }>;
}

function addOsv(rec: OsvRecord, ecosystem: string, fv: FeedVersions): void {
  for (const a of rec.affected ?? []) {
    if (a.package?.ecosystem !== ecosystem) continue;
    const name = a.package.name ?? '';
    let set = fv.byPackage.get(name);
    if (!set) fv.byPackage.set(name, (set = new Set()));
    for (const r of a.ranges ?? []) {
      for (const e of r.events ?? []) {
        for (const v of Object.values(e)) if (typeof v === 'string' && v !== '0') set.add(v);
      }
    }
    for (const v of a.versions ?? []) if (typeof v === 'string') set.add(v);
  }
}

function readJsonMaybeGz(path: string): unknown {
  const buf = readFileSync(path);
  return JSON.parse((path.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8'));
}

/** The OSV versions of `ecosystem` (OSV's ecosystem name: PyPI, npm, Go, Maven, RubyGems, crates.io). */
export function osvVersions(ecosystem: string): FeedVersions {
  const fv: FeedVersions = { byPackage: new Map(), sources: [] };
  const ghsaFile = { PyPI: 'pypi', npm: 'npm', Go: 'go', Maven: 'maven', RubyGems: 'rubygems', 'crates.io': 'crates-io' }[ecosystem];
  for (const suffix of ['.json', '.json.gz']) {
    const p = join(OSV, 'ghsa-vulnfeed', `${ghsaFile}${suffix}`);
    if (existsSync(p)) {
      for (const rec of readJsonMaybeGz(p) as OsvRecord[]) addOsv(rec, ecosystem, fv);
      fv.sources.push(`feeds/osv/ghsa-vulnfeed/${ghsaFile}${suffix}`);
    }
  }
  if (ecosystem === 'PyPI') {
    for (const f of walk(join(OSV, 'pypa/vulns'), ['.yaml'])) addOsv(parseYaml(readFileSync(f, 'utf8')) as OsvRecord, ecosystem, fv);
    fv.sources.push('feeds/osv/pypa');
  }
  if (ecosystem === 'Go') {
    for (const f of walk(join(OSV, 'go-vulndb/data/osv'), ['.json'])) addOsv(readJsonMaybeGz(f) as OsvRecord, ecosystem, fv);
    fv.sources.push('feeds/osv/go-vulndb');
  }
  if (ecosystem === 'Maven') {
    const outer = join(OSV, 'maven/claircore-history/maven.zip');
    for (const inner of ['oval.fetch.maven1.zip', 'oval.fetch.maven2.zip']) {
      // The Maven zips nest: maven.zip holds zips of OSV JSON files.
      const tmp = spawnSync('sh', ['-c', `d=$(mktemp -d) && cd "$d" && unzip -qo "$1" "$2" && unzip -qo "$2" -d x && find x -name '*.json' -exec cat {} + ; rm -rf "$d"`, 'sh', outer, inner], {
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      });
      // Concatenated JSON objects: split on top-level boundaries.
      for (const chunk of tmp.stdout.split(/\n?(?=\{\s*"(?:schema_version|id)")/)) {
        if (chunk.trim() === '') continue;
        try {
          addOsv(JSON.parse(chunk) as OsvRecord, ecosystem, fv);
        } catch {
          // a chunk that is not a whole record (the split is a heuristic); skipped
        }
      }
    }
    fv.sources.push('feeds/osv/maven/claircore-history/maven.zip');
  }
  return fv;
}

/** RustSec's `patched`/`unaffected` requirement strings, by crate. */
export function rustsecRequirements(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of walk(join(OSV, 'rustsec/crates'), ['.md'])) {
    const text = readFileSync(f, 'utf8');
    const crate = text.match(/^package = "([^"]+)"/m)?.[1] ?? '';
    for (const m of text.matchAll(/^(?:patched|unaffected) = \[([^\]]*)\]/gm)) {
      for (const q of (m[1] ?? '').matchAll(/"([^"]*)"/g)) {
        let s = out.get(crate);
        if (!s) out.set(crate, (s = new Set()));
        s.add(q[1] ?? '');
      }
    }
  }
  return out;
}

/** rubysec's `patched_versions`/`unaffected_versions` requirement strings, by gem. */
export function rubysecRequirements(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of walk(join(OSV, 'rubysec/gems'), ['.yml'])) {
    const doc = parseYaml(readFileSync(f, 'utf8')) as { gem?: string; patched_versions?: unknown; unaffected_versions?: unknown };
    for (const list of [doc.patched_versions, doc.unaffected_versions]) {
      if (!Array.isArray(list)) continue;
      for (const r of list) {
        if (typeof r !== 'string') continue;
        let s = out.get(doc.gem ?? '');
        if (!s) out.set(doc.gem ?? '', (s = new Set()));
        s.add(r);
      }
    }
  }
  return out;
}
