import { newVulnerability, type Vulnerability } from '../../model/vulnerability.ts';
import { ecosystemByOsvName } from './ecosystems.ts';
import { advisorySeverity, type SeverityEntry } from './severity.ts';

// One OSV record (https://ossf.github.io/osv-schema/) → clair-ts vulnerability records: one per affected package and
// affected interval (intervalsOfEvents: the schema's sort-then-walk evaluation in the ecosystem's version order). A
// `versions` list becomes one more record holding the list. GIT ranges (commit hashes) say nothing about a released
// package and are ignored.

/** A record that cannot be used; the updater skips it with a warning. */
export class BadRecordError extends Error {}

export interface Interval {
  /** "" = from the first version. */
  introduced: string;
  /** Exclusive upper bound (OSV fixed, or a range limit); "" when none. */
  fixed: string;
  /** Inclusive upper bound; "" when none. */
  lastAffected: string;
}

interface OsvEvent {
  introduced?: unknown;
  fixed?: unknown;
  last_affected?: unknown;
  limit?: unknown;
}

type Compare = (a: string, b: string) => number;

function decodeEvents(events: readonly OsvEvent[]): { kind: 'introduced' | 'fixed' | 'last_affected' | 'limit'; version: string }[] {
  return events.map((e) => {
    if (typeof e !== 'object' || e === null) throw new BadRecordError('range event is not an object');
    const keys = Object.keys(e).filter((k) => k === 'introduced' || k === 'fixed' || k === 'last_affected' || k === 'limit');
    if (keys.length !== 1) throw new BadRecordError(`range event ${JSON.stringify(e)} must have exactly one of introduced, fixed, last_affected, limit`);
    const kind = keys[0] as 'introduced' | 'fixed' | 'last_affected' | 'limit';
    const version = (e as Record<string, unknown>)[kind];
    if (typeof version !== 'string' || version.trim() === '') throw new BadRecordError(`range event ${kind} is not a version string`);
    return { kind, version };
  });
}

const TIE: Record<string, number> = { introduced: 0, last_affected: 1, fixed: 2, limit: 3 };

/**
 * The affected intervals of one OSV range's events. With the ecosystem's order (`compare`) this is the schema's
 * evaluation exactly: events sorted by version ("0" first; at one version introduced before last_affected, fixed
 * and limit, as src/versions/osv-range.ts), walked, each stretch where the walk is "affected" one interval, all below
 * the range's limit. A record that lists an inverted pair (GitHub's derby advisory: introduced 4.0.0-beta1, fixed
 * 4.0.0-beta.11, which semver orders the other way) then means what the schema says it means. Without an order (a
 * scheme clair-ts lacks, a version it cannot read) the events are taken in the order the record lists them.
 */
export function intervalsOfEvents(events: readonly OsvEvent[], compare?: Compare): Interval[] {
  let evs = decodeEvents(events);
  const limits = evs.filter((e) => e.kind === 'limit' && e.version !== '*').map((e) => e.version);
  evs = evs.filter((e) => e.kind !== 'limit');
  if (compare) {
    evs = evs
      .map((e, i) => ({ e, i }))
      .sort((a, b) => {
        const za = a.e.kind === 'introduced' && a.e.version === '0';
        const zb = b.e.kind === 'introduced' && b.e.version === '0';
        const c = za || zb ? (za === zb ? 0 : za ? -1 : 1) : compare(a.e.version, b.e.version);
        return c || TIE[a.e.kind]! - TIE[b.e.kind]! || a.i - b.i;
      })
      .map((x) => x.e);
  }
  const out: Interval[] = [];
  let open: string | undefined;
  for (const e of evs) {
    if (e.kind === 'introduced') {
      // A second introduced inside an open interval adds nothing: the open interval already covers it.
      if (open === undefined) open = e.version === '0' ? '' : e.version;
    } else if (open !== undefined || !compare) {
      // In listed order, a fix without an introduced before it closes an interval from the first version (old
      // records); sorted, the walk is not affected there and the event changes nothing.
      const from = open ?? '';
      out.push(e.kind === 'fixed' ? { introduced: from, fixed: e.version, lastAffected: '' } : { introduced: from, fixed: '', lastAffected: e.version });
      open = undefined;
    }
  }
  if (open !== undefined) out.push({ introduced: open, fixed: '', lastAffected: '' });
  if (compare) {
    // [1.0, fixed 1.0) holds nothing.
    const holds = (iv: Interval) => !iv.introduced || !iv.fixed || compare(iv.introduced, iv.fixed) < 0;
    for (let i = out.length - 1; i >= 0; i--) if (!holds(out[i]!)) out.splice(i, 1);
  }
  if (limits.length === 0) return out;
  // Affected only below a limit: below the highest one (with an order; else the last listed).
  const limit = compare ? limits.reduce((a, b) => (compare(a, b) >= 0 ? a : b)) : limits[limits.length - 1]!;
  const below = (v: string): boolean => (compare ? compare(v, limit) < 0 : true);
  return out
    .filter((iv) => iv.introduced === '' || below(iv.introduced))
    .map((iv) => {
      if (iv.fixed) return below(iv.fixed) ? iv : { ...iv, fixed: limit };
      if (iv.lastAffected) return below(iv.lastAffected) ? iv : { introduced: iv.introduced, fixed: limit, lastAffected: '' };
      return { ...iv, fixed: limit };
    });
}

export interface ConvertOptions {
  /** Update-operation name stored in each record's `updater`. */
  updater: string;
  /** The ecosystem's version order by scheme id (src/versions), when clair-ts has it. */
  compare?: (scheme: string) => Compare | undefined;
  /** Only these ecosystems (OSV names, lowercase); all language ecosystems when undefined. */
  ecosystems?: ReadonlySet<string>;
}

export interface Converted {
  records: Vulnerability[];
  withdrawn: boolean;
  /** Affected entries of ecosystems not wanted here (other ecosystems, or ones clair-ts does not match). */
  skippedAffected: number;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string' && s.trim() !== '').map((s) => s.trim()) : [];
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** The advisory's page: GitHub's for GHSA, the publisher's own where the record says, else OSV's. */
function advisoryPage(id: string, db: Json | undefined): string {
  if (id.startsWith('GHSA-')) return `https://github.com/advisories/${id}`;
  const url = db ? str(db.url) : '';
  if (/^https?:\/\//.test(url)) return url;
  if (id.startsWith('RUSTSEC-')) return `https://rustsec.org/advisories/${id}.html`;
  return `https://osv.dev/vulnerability/${id}`;
}

function severityEntries(v: unknown): SeverityEntry[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isObject).map((e) => ({ type: str(e.type), score: str(e.score) })).filter((e) => e.type && e.score);
}

/** Records of one OSV document; BadRecordError when it is not an OSV record. */
export function convertOsvRecord(doc: unknown, opts: ConvertOptions): Converted {
  if (!isObject(doc)) throw new BadRecordError('not a JSON object');
  const id = str(doc.id).trim();
  if (!id) throw new BadRecordError('no "id"');
  if (doc.withdrawn !== undefined && doc.withdrawn !== null && doc.withdrawn !== '') return { records: [], withdrawn: true, skippedAffected: 0 };
  if (!Array.isArray(doc.affected)) throw new BadRecordError(`${id}: no "affected" list`);
  const aliases = [...new Set(strings(doc.aliases).filter((a) => a !== id))];
  const db = isObject(doc.database_specific) ? doc.database_specific : undefined;
  const summary = str(doc.summary).trim();
  const details = str(doc.details).trim();
  const description = summary && details && !details.startsWith(summary) ? `${summary}\n\n${details}` : details || summary;
  const refs = Array.isArray(doc.references) ? doc.references.filter(isObject).map((r) => str(r.url)).filter((u) => /^https?:\/\//.test(u)) : [];
  const links = [...new Set([advisoryPage(id, db), ...refs])].join(' ');
  const recordSeverity = advisorySeverity(severityEntries(doc.severity), db ? str(db.severity) : undefined);
  const issued = /^\d{4}-\d\d-\d\d/.test(str(doc.published)) && !str(doc.published).startsWith('0001-') ? str(doc.published) : '';

  const records: Vulnerability[] = [];
  let skippedAffected = 0;
  for (const a of doc.affected) {
    if (!isObject(a) || !isObject(a.package)) throw new BadRecordError(`${id}: an affected entry has no package`);
    const eco = ecosystemByOsvName(str(a.package.ecosystem));
    if (!eco || (opts.ecosystems && !opts.ecosystems.has(eco.osv.toLowerCase()))) {
      skippedAffected++;
      continue;
    }
    const rawName = str(a.package.name).trim();
    if (!rawName) throw new BadRecordError(`${id}: an affected ${eco.osv} package has no name`);
    const severity = advisorySeverity(severityEntries(a.severity)) ?? recordSeverity;
    const adb = isObject(a.database_specific) ? a.database_specific : undefined;
    const informational = str(adb?.informational) || str(db?.informational);
    const functions = affectedFunctions(a);
    const base = {
      updater: opts.updater,
      name: id,
      description,
      issued,
      links,
      severity: severity?.severity ?? '',
      normalizedSeverity: severity?.normalized ?? ('Unknown' as const),
      package: { name: eco.normalizeName(rawName), kind: 'binary' as const, module: '', arch: '' },
      repo: { name: eco.repository, key: '', uri: eco.uri, cpe: '' },
      versionScheme: eco.scheme,
      ...(aliases.length > 0 ? { aliases } : {}),
      ...(informational ? { informational } : {}),
      ...(functions.length > 0 ? { functions } : {}),
    };
    const ranges = Array.isArray(a.ranges) ? a.ranges.filter(isObject) : [];
    const order = opts.compare?.(eco.scheme);
    for (const r of ranges.filter((r) => r.type === 'SEMVER' || r.type === 'ECOSYSTEM')) {
      if (!Array.isArray(r.events)) throw new BadRecordError(`${id}: a ${str(r.type)} range has no events`);
      let intervals: Interval[];
      try {
        intervals = intervalsOfEvents(r.events as OsvEvent[], order);
      } catch (e) {
        if (e instanceof BadRecordError || !order) throw e;
        // A version the scheme cannot read: the record's own order is all there is.
        intervals = intervalsOfEvents(r.events as OsvEvent[]);
      }
      for (const iv of intervals) {
        records.push(newVulnerability({ ...base, fixedInVersion: iv.fixed, range: { introduced: iv.introduced, lastAffected: iv.lastAffected } }));
      }
    }
    // A version is affected when a range holds it or the `versions` list names it (OSV: the union of both). PyPA
    // lists versions that its ranges also cover, and sometimes ones they do not (GIT ranges turned into versions).
    const versions = strings(a.versions);
    if (versions.length > 0) records.push(newVulnerability({ ...base, affectedVersions: versions }));
    // Neither a range nor a version list (GIT ranges only): nothing to decide with; no record.
  }
  return { records, withdrawn: false, skippedAffected };
}

/** RustSec's affected functions and Go's vulnerable symbols, as "path::fn" / "pkg.Symbol". */
function affectedFunctions(a: Json): string[] {
  const es = isObject(a.ecosystem_specific) ? a.ecosystem_specific : undefined;
  const out: string[] = [];
  const affects = es && isObject(es.affects) ? es.affects : undefined;
  if (affects) out.push(...strings(affects.functions));
  if (es && Array.isArray(es.imports)) {
    for (const imp of es.imports.filter(isObject)) {
      const path = str(imp.path);
      for (const s of strings(imp.symbols)) out.push(path ? `${path}.${s}` : s);
    }
  }
  return [...new Set(out)];
}
