import { ClairError } from '../../model/errors.ts';
import { newVulnerability, type Vulnerability } from '../../model/vulnerability.ts';
import { dpkg } from '../../versions/dpkg.ts';
import { ubuntuReleaseByVersion } from './releases.ts';
import { normalizeUbuntuPriority } from './severity.ts';

// Canonical's OSV records (canonical/ubuntu-security-notices, osv/cve/<year>/UBUNTU-CVE-*.json; OSV schema 1.7):
// one record per CVE, one `affected` entry per (release, source package), the release in the ecosystem:
//   "Ubuntu:22.04:LTS", "Ubuntu:25.10"       the release's own archive
//   "Ubuntu:Pro:16.04:LTS"                   Ubuntu Pro (ESM): the package is covered, and any fix, only through Pro
//   "Ubuntu:Pro:FIPS…:20.04:LTS" and other named Pro variants: special builds (FIPS, real-time kernels) that a plain
//                                            image does not install: no record
// Each entry becomes records for the release, keyed by the source package:
// - ranges (type ECOSYSTEM, dpkg versions): each introduced/fixed pair is one record, fixed_in_version the fix;
//   a range without "fixed" (or with last_affected) is affected with no fix. introduced "0" means from the start.
// - a Pro entry's fix is not available to a plain image: its fixed_in_version says "(Ubuntu Pro)", so a report never
//   offers it as an upgrade a plain image can make; an image with the Pro package installed compares past it.
// - where a record has both a plain and a Pro entry for the same release and package, one of them speaks for the
//   pair (two would report the issue twice): the plain entry when it has a fix (what the image can get), else the
//   Pro entry when it has one (the only fix there is, marked as Pro's), else the plain entry.
// - `versions` (the explicit list of affected versions) is honoured as written: OSV says a version in the list is
//   affected whatever the ranges say, so each listed version no range covers becomes a record for exactly that
//   version ([v, v], no fix).
// - withdrawn records affect no one: no records.

export const UBUNTU_UPDATER = 'ubuntu';

/** What fixed_in_version says after a fix that exists only in Ubuntu Pro. */
export const PRO_ONLY_SUFFIX = ' (Ubuntu Pro)';

/** The version of a fixed_in_version, without the Pro note. */
export function fixedVersionOf(fixedInVersion: string): string {
  return fixedInVersion.endsWith(PRO_ONLY_SUFFIX) ? fixedInVersion.slice(0, -PRO_ONLY_SUFFIX.length) : fixedInVersion;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: Json | undefined): string {
  return typeof v === 'string' ? v : '';
}

export interface UbuntuEcosystem {
  versionId: string;
  lts: boolean;
  pro: boolean;
  /** A named Pro variant (FIPS, …): not for plain images. */
  variant: string;
}

/** "Ubuntu:Pro:16.04:LTS" → {16.04, LTS, Pro}; undefined for ecosystems that are not Ubuntu's. */
export function parseUbuntuEcosystem(ecosystem: string): UbuntuEcosystem | undefined {
  const parts = ecosystem.split(':');
  if (parts[0] !== 'Ubuntu') return undefined;
  let i = 1;
  const pro = parts[i] === 'Pro';
  if (pro) i++;
  const variant: string[] = [];
  while (i < parts.length && !/^\d+\.\d+$/.test(parts[i]!)) variant.push(parts[i++]!);
  const versionId = parts[i++];
  if (!versionId) return undefined;
  const lts = parts[i] === 'LTS';
  if (lts) i++;
  if (i !== parts.length) return undefined;
  return { versionId, lts, pro, variant: variant.join(':') };
}

interface Range {
  introduced: string;
  fixed: string;
  lastAffected: string;
}

/** ECOSYSTEM ranges as [introduced, fixed | last_affected) pairs, in event order. */
function rangesOf(ranges: Json | undefined, where: string): Range[] {
  if (ranges === undefined || ranges === null) return [];
  if (!Array.isArray(ranges)) throw new ClairError('bad-feed', `${where}: "ranges" is not a list`);
  const out: Range[] = [];
  for (const r of ranges) {
    if (!isObject(r) || !Array.isArray(r['events'])) throw new ClairError('bad-feed', `${where}: a range without "events"`);
    if (r['type'] !== 'ECOSYSTEM') continue;
    let cur: Range | undefined;
    for (const e of r['events']) {
      if (!isObject(e)) throw new ClairError('bad-feed', `${where}: an event is not an object`);
      if (typeof e['introduced'] === 'string') {
        if (cur) out.push(cur);
        cur = { introduced: e['introduced'], fixed: '', lastAffected: '' };
      } else if (typeof e['fixed'] === 'string' || typeof e['last_affected'] === 'string') {
        cur ??= { introduced: '0', fixed: '', lastAffected: '' };
        if (typeof e['fixed'] === 'string') cur.fixed = e['fixed'];
        else cur.lastAffected = e['last_affected'] as string;
        out.push(cur);
        cur = undefined;
      }
    }
    if (cur) out.push(cur);
  }
  return out;
}

function checkVersion(v: string, where: string): void {
  if (!dpkg.isValid(v)) throw new ClairError('bad-feed', `${where}: ${JSON.stringify(v)} is not a dpkg version`);
}

function inRange(v: string, r: Range): boolean {
  if (r.introduced !== '0' && dpkg.compare(v, r.introduced) < 0) return false;
  if (r.fixed) return dpkg.compare(v, r.fixed) < 0;
  if (r.lastAffected) return dpkg.compare(v, r.lastAffected) <= 0;
  return true;
}

/** The records of one Canonical OSV document. Throws ClairError('bad-feed') naming the part that does not fit. */
export function ubuntuOsvRecords(doc: Json, location: string): Vulnerability[] {
  if (!isObject(doc) || typeof doc['id'] !== 'string') throw new ClairError('bad-feed', `${location}: not an OSV record (no "id")`);
  const id = doc['id'];
  if (doc['withdrawn']) return [];
  const affected = doc['affected'];
  if (!Array.isArray(affected)) throw new ClairError('bad-feed', `${location}: ${id}: "affected" is missing or not a list`);
  const upstream = Array.isArray(doc['upstream']) ? doc['upstream'].filter((u): u is string => typeof u === 'string') : [];
  const cves = upstream.filter((u) => /^CVE-\d+-\d+$/.test(u));
  // The CVE is what users look for (and what other feeds call it); UBUNTU-CVE-… ids otherwise.
  const name = cves.length === 1 ? cves[0]! : id.replace(/^UBUNTU-/, '');
  const related = Array.isArray(doc['related']) ? doc['related'].filter((r): r is string => typeof r === 'string' && r.startsWith('USN-')) : [];
  const links = [
    /^CVE-/.test(name) ? `https://ubuntu.com/security/${name}` : '',
    ...related.map((usn) => `https://ubuntu.com/security/notices/${usn}`),
  ].filter(Boolean).join(' ');
  const severities = Array.isArray(doc['severity']) ? doc['severity'] : [];
  const priority = str(severities.map((s) => (isObject(s) && s['type'] === 'Ubuntu' ? s['score'] : undefined)).find((s) => typeof s === 'string'));

  const entries: { eco: UbuntuEcosystem; pkg: string; entry: { [k: string]: Json }; where: string }[] = [];
  affected.forEach((entry, i) => {
    const where = `${location}: ${id} affected[${i}]`;
    if (!isObject(entry) || !isObject(entry['package'])) throw new ClairError('bad-feed', `${where}: expected {"package": …}`);
    const eco = parseUbuntuEcosystem(str(entry['package']['ecosystem']));
    const pkg = str(entry['package']['name']);
    if (!eco || !pkg || eco.variant) return;
    entries.push({ eco, pkg, entry, where: `${where} (${pkg}, ${str(entry['package']['ecosystem'])})` });
  });
  // One entry speaks for each (release, package): see the header.
  const hasFix = (e: { entry: { [k: string]: Json } }): boolean =>
    Array.isArray(e.entry['ranges']) && e.entry['ranges'].some((r) => isObject(r) && Array.isArray(r['events']) && r['events'].some((ev) => isObject(ev) && typeof ev['fixed'] === 'string'));
  const groups = new Map<string, { plain: (typeof entries)[number][]; pro: (typeof entries)[number][] }>();
  for (const e of entries) {
    const k = `${e.eco.versionId}\u0000${e.pkg}`;
    const g = groups.get(k) ?? { plain: [], pro: [] };
    (e.eco.pro ? g.pro : g.plain).push(e);
    groups.set(k, g);
  }
  const chosen: (typeof entries)[number][] = [];
  for (const g of groups.values()) {
    const usePro = g.plain.length === 0 || (!g.plain.some(hasFix) && g.pro.some(hasFix));
    chosen.push(...(usePro ? g.pro : g.plain));
  }
  const speaking = new Set(chosen);

  const out: Vulnerability[] = [];
  for (const { eco, pkg, entry, where } of entries.filter((e) => speaking.has(e))) {
    const release = ubuntuReleaseByVersion(eco.versionId);
    const dist: Vulnerability['dist'] = {
      did: 'ubuntu',
      versionId: eco.versionId,
      versionCodeName: release?.codename ?? '',
      cpe: '',
      name: 'Ubuntu',
      version: '',
      prettyName: `Ubuntu ${eco.versionId}${eco.lts ? ' LTS' : ''}`,
      arch: '',
    };
    // The Pro pocket (esm-infra, esm-apps) from the purl's distro qualifier, when given.
    const pocket = eco.pro ? (/[?&]distro=([a-z-]+)\//.exec(str((entry['package'] as { [k: string]: Json })['purl']))?.[1] ?? 'esm') : '';
    const base = {
      updater: UBUNTU_UPDATER,
      name,
      description: str(doc['details']),
      issued: str(doc['published']),
      links,
      severity: priority,
      normalizedSeverity: normalizeUbuntuPriority(priority),
      package: { name: pkg, kind: 'source' as const, module: '', arch: '' },
      dist,
      repo: { name: eco.pro ? `Ubuntu Pro (${pocket})` : '', key: '', uri: '', cpe: '' },
      versionScheme: 'dpkg',
    };
    const ranges = rangesOf(entry['ranges'], where);
    for (const r of ranges) {
      if (r.introduced !== '0') checkVersion(r.introduced, where);
      if (r.fixed) checkVersion(r.fixed, where);
      if (r.lastAffected) checkVersion(r.lastAffected, where);
      out.push(newVulnerability({
        ...base,
        fixedInVersion: r.fixed ? r.fixed + (eco.pro ? PRO_ONLY_SUFFIX : '') : '',
        range: { introduced: r.introduced === '0' ? '' : r.introduced, lastAffected: r.lastAffected },
      }));
    }
    const versions = Array.isArray(entry['versions']) ? entry['versions'] : [];
    for (const v of versions) {
      if (typeof v !== 'string') throw new ClairError('bad-feed', `${where}: "versions" holds a non-string`);
      checkVersion(v, where);
      if (ranges.some((r) => inRange(v, r))) continue;
      out.push(newVulnerability({ ...base, fixedInVersion: '', range: { introduced: v, lastAffected: v } }));
    }
  }
  return out;
}
