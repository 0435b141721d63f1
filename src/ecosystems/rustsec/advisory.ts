import { lazyRequire } from '../../model/lazy-require.ts';
import { newVulnerability, type Vulnerability } from '../../model/vulnerability.ts';
import { advisorySeverity } from '../osv/severity.ts';
import { RequirementError, uncovered, type VersionInterval } from './requirement.ts';

const semver = lazyRequire<typeof import('semver')>('semver');
const smolToml = lazyRequire<typeof import('smol-toml')>('smol-toml');

// One RustSec advisory (rustsec/advisory-db, crates/<crate>/RUSTSEC-YYYY-NNNN.md): TOML front matter in a ```toml
// fence, then Markdown whose first heading is the title. Fields used (https://github.com/rustsec/advisory-db#advisory-format):
//   [advisory] id, package, date, url, references, aliases, cvss, informational, withdrawn
//   [affected] functions = { "crate::path::fn" = ["< 1.2.3"] }
//   [versions] patched, unaffected: Cargo requirements; every version neither allows is affected
// Informational advisories (unmaintained, unsound, notice) are kept with `informational` set: reports show them,
// the scan gate does not count them.

export class BadAdvisoryError extends Error {}

type Toml = Record<string, unknown>;

function isTable(v: unknown): v is Toml {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function str(v: unknown): string {
  if (typeof v === 'string') return v.trim();
  // smol-toml reads an unquoted `date = 2020-12-21` as a TOML local date.
  if (v instanceof Date || (typeof v === 'object' && v !== null && 'toISOString' in v)) return String(v);
  return '';
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string' && s.trim() !== '').map((s) => s.trim()) : [];
}

/** Splits the front matter from the Markdown body. */
function splitAdvisory(text: string): { toml: string; body: string } {
  const m = /^\s*```toml\r?\n([\s\S]*?)\r?\n```[ \t]*(?:\r?\n|$)([\s\S]*)$/.exec(text);
  if (!m) throw new BadAdvisoryError('no ```toml front matter');
  return { toml: m[1]!, body: m[2]! };
}

/** "1.2.3" inclusive-after → the first version above it ("1.2.4-0"; above a prerelease, the prerelease ".0"). */
function versionAfter(v: string): string {
  const p = semver().parse(v);
  if (!p) return v;
  return p.prerelease.length > 0 ? `${p.version}.0` : `${p.major}.${p.minor}.${p.patch + 1}-0`;
}

function boundsOf(i: VersionInterval): { introduced: string; fixed: string; lastAffected: string } {
  const introduced = !i.lo ? '' : i.lo.inclusive ? i.lo.version : versionAfter(i.lo.version);
  if (!i.hi) return { introduced, fixed: '', lastAffected: '' };
  return i.hi.inclusive ? { introduced, fixed: '', lastAffected: i.hi.version } : { introduced, fixed: i.hi.version, lastAffected: '' };
}

export interface ParsedAdvisory {
  id: string;
  withdrawn: boolean;
  records: Vulnerability[];
}

const CRATES_IO = { name: 'crates.io', key: '', uri: 'https://crates.io/', cpe: '' };

/** The records of one advisory file; BadAdvisoryError when it cannot be read. */
export function parseRustsecAdvisory(text: string, updater: string): ParsedAdvisory {
  const { toml, body } = splitAdvisory(text);
  let doc: Toml;
  try {
    doc = smolToml().parse(toml) as Toml;
  } catch (e) {
    throw new BadAdvisoryError(`front matter is not TOML: ${(e as Error).message.split('\n')[0]}`);
  }
  const adv = doc.advisory;
  if (!isTable(adv)) throw new BadAdvisoryError('no [advisory] table');
  const id = str(adv.id);
  const crate = str(adv.package);
  if (!/^RUSTSEC-\d{4}-\d{4,}$/.test(id)) throw new BadAdvisoryError(`advisory id ${JSON.stringify(adv.id)} is not RUSTSEC-YYYY-NNNN`);
  if (!crate) throw new BadAdvisoryError(`${id}: no package`);
  if (adv.withdrawn !== undefined && str(adv.withdrawn) !== '') return { id, withdrawn: true, records: [] };

  const versions = isTable(doc.versions) ? doc.versions : {};
  if (versions.patched !== undefined && !Array.isArray(versions.patched)) throw new BadAdvisoryError(`${id}: versions.patched is not a list`);
  let gaps: VersionInterval[];
  try {
    gaps = uncovered([...strings(versions.patched), ...strings(versions.unaffected)]);
  } catch (e) {
    if (e instanceof RequirementError) throw new BadAdvisoryError(`${id}: ${e.message}`);
    throw e;
  }
  const affected = isTable(doc.affected) ? doc.affected : {};
  const functions = isTable(affected.functions) ? Object.keys(affected.functions) : [];
  const informational = str(adv.informational);
  const aliases = [...new Set(strings(adv.aliases).filter((a) => a !== id))];
  const cvss = str(adv.cvss);
  const sev = cvss ? advisorySeverity([{ type: cvss.startsWith('CVSS:4') ? 'CVSS_V4' : 'CVSS_V3', score: cvss }]) : undefined;
  const title = /^#\s+(.+)$/m.exec(body)?.[1]?.trim() ?? '';
  const rest = body.replace(/^\s*#\s+.+$/m, '').trim();
  const description = [title, rest].filter(Boolean).join('\n\n');
  const date = str(adv.date);
  const links = [...new Set([`https://rustsec.org/advisories/${id}.html`, str(adv.url), ...strings(adv.references)].filter((u) => /^https?:\/\//.test(u)))].join(' ');
  const records = gaps.map((g) => {
    const b = boundsOf(g);
    return newVulnerability({
      updater,
      name: id,
      description,
      issued: /^\d{4}-\d\d-\d\d$/.test(date) ? `${date}T00:00:00Z` : '',
      links,
      severity: informational ? `informational: ${informational}` : sev?.severity ?? '',
      normalizedSeverity: informational ? 'Unknown' : sev?.normalized ?? 'Unknown',
      package: { name: crate, kind: 'binary', module: '', arch: '' },
      repo: { ...CRATES_IO },
      fixedInVersion: b.fixed,
      versionScheme: 'cargo',
      range: { introduced: b.introduced, lastAffected: b.lastAffected },
      ...(aliases.length > 0 ? { aliases } : {}),
      ...(informational ? { informational } : {}),
      ...(functions.length > 0 ? { functions } : {}),
    });
  });
  return { id, withdrawn: false, records };
}
