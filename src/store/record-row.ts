import type { EnrichmentRecord } from '../model/enrichment.ts';
import type { Vulnerability } from '../model/vulnerability.ts';
import { canonicalJson, DIST_KEYS, objectJson, REPO_KEYS, serializeVulnerability, sha256Hex } from './vulnerability-hash.ts';

// The stored parts of one vulnerability record. A record is stored in three parts, so that what many records repeat
// is stored once:
// - its context (vuln_context): updater, package kind/module/arch, distribution, repository, version scheme and
//   arch operation. A feed has a handful (Debian: one per release), and every record used to repeat ~500 bytes of it;
// - its text (vuln_text, deflated: store/stored-text.ts): description and links, shared by the records of one
//   advisory (one per release and source package in Debian's tracker). The record's name in the text is stored as
//   a placeholder (NAME_MARK), so records whose text differs only by their name share one row: Alpine's link is
//   its CVE's page, and each of its records used to keep a text row of its own for it;
// - its own fields: a JSON array of issued, severity, normalized severity, fixed version, range and the
//   language-advisory extras, which a pack's line holds beside the record's package name, name and text id
//   (store/vulnerability-pack.ts; vulnerabilityParts).
// The parts put back together give the record's canonical JSON byte for byte (decodeRecordJson), what export writes.
//
// Before packs (SQLite migration 11, PostgreSQL 12), each record was a row of a record table with a content hash of
// that JSON (vulnerabilityRow), enrichment records among them (enrichmentRow: the CVE id as its name, an empty
// package name); the migrations that rewrite such rows still use those.

/** Hex digits of SHA-256 kept as the content hash: 128 bits, far from any collision at billions of records. */
const HASH_HEX = 32;

export interface RecordRow {
  /** Content hash of the record's canonical JSON. */
  hash: string;
  updater: string;
  name: string;
  packageName: string;
  /** The context's JSON (vuln_context.data), and the columns matching filters on. */
  context: string;
  did: string;
  versionId: string;
  codeName: string;
  /** The text's JSON (vuln_text.data) and its hash; null for enrichment rows. */
  text: string | null;
  textHash: string | null;
  /** The record's own fields (vuln.data). */
  data: string;
}

/** The stored parts of a record as a query returns them (SQL: RECORD_COLUMNS over RECORD_JOINS). */
export interface StoredParts {
  name: string;
  package_name: string;
  data: string;
  context: string;
  text: string | null;
}

/** Columns of a record read back; `v` is vuln, `c` its context, `t` its text. */
export const RECORD_COLUMNS = 'v.name, v.package_name, v.data, c.data AS context, t.data AS text';
export const RECORD_JOINS = 'JOIN vuln_context c ON c.id = v.context_id LEFT JOIN vuln_text t ON t.id = v.text_id';

export function shortHash(s: string): string {
  return sha256Hex(s).slice(0, HASH_HEX);
}

// undefined has no JSON form inside an array (it would come back as null, and a record whose field was null must
// keep it): 0, which no string field ever holds, stands for it.
const put = (x: unknown) => (x === undefined ? 0 : x);
const get = <T>(x: T | 0): T | undefined => (x === 0 ? undefined : x);

interface VulnContext {
  u: string;
  k: Vulnerability['package']['kind'];
  m: string;
  a: string;
  d: Vulnerability['dist'];
  r: Vulnerability['repo'];
  s: string;
  o: string;
}

/** A context as vulnerabilityRow serialized it, with the record fields it was made from. */
interface ContextEntry {
  v: Vulnerability;
  context: string;
  distJson: string;
  repoJson: string;
}

// Field by field, written out (DIST_KEYS and REPO_KEYS, the release first: what tells a feed's contexts apart): a
// loop over the key lists read each field by a computed key, the slowest of property reads, for every record.
const sameContext = (a: Vulnerability, b: Vulnerability): boolean => {
  const ad = a.dist;
  const bd = b.dist;
  if (ad.versionCodeName !== bd.versionCodeName || ad.versionId !== bd.versionId || ad.did !== bd.did) return false;
  if (a.updater !== b.updater || a.versionScheme !== b.versionScheme || a.archOperation !== b.archOperation) return false;
  if (a.package.kind !== b.package.kind || a.package.module !== b.package.module || a.package.arch !== b.package.arch) return false;
  if (ad.cpe !== bd.cpe || ad.name !== bd.name || ad.version !== bd.version || ad.prettyName !== bd.prettyName || ad.arch !== bd.arch) return false;
  const ar = a.repo;
  const br = b.repo;
  return ar.name === br.name && ar.key === br.key && ar.uri === br.uri && ar.cpe === br.cpe;
};
// sameContext compares exactly these: a key added to either list fails the type check here until added above.
void (DIST_KEYS satisfies readonly ['did', 'versionId', 'versionCodeName', 'cpe', 'name', 'version', 'prettyName', 'arch']);
void (REPO_KEYS satisfies readonly ['name', 'key', 'uri', 'cpe']);

// The contexts of the last records encoded. A feed has a handful (Debian: one per release, its records cycling
// through them advisory by advisory); comparing a record's fields with a few recent ones costs far less than
// serializing its distribution and repository again for the context and for the content hash.
const RECENT_CONTEXTS = 8;
const recentContexts: ContextEntry[] = [];

function contextEntry(v: Vulnerability): ContextEntry {
  for (let i = 0; i < recentContexts.length; i++) {
    const e = recentContexts[i]!;
    if (sameContext(e.v, v)) {
      if (i > 0) {
        recentContexts.splice(i, 1);
        recentContexts.unshift(e);
      }
      return e;
    }
  }
  const d = v.dist;
  const r = v.repo;
  const context = JSON.stringify({
    u: v.updater, k: put(v.package.kind), m: put(v.package.module), a: put(v.package.arch),
    d: { did: d.did, versionId: d.versionId, versionCodeName: d.versionCodeName, cpe: d.cpe, name: d.name, version: d.version, prettyName: d.prettyName, arch: d.arch },
    r: { name: r.name, key: r.key, uri: r.uri, cpe: r.cpe },
    s: put(v.versionScheme), o: put(v.archOperation),
  });
  // A copy of the compared fields: the record's own objects may be changed by their owner after this call.
  const key = { ...v, package: { ...v.package }, dist: { ...d }, repo: { ...r } };
  const e = { v: key, context, distJson: objectJson(DIST_KEYS, d), repoJson: objectJson(REPO_KEYS, r) };
  recentContexts.unshift(e);
  if (recentContexts.length > RECENT_CONTEXTS) recentContexts.pop();
  return e;
}

// The last text encoded: consecutive records of one advisory (Debian: one per release) share their text.
let lastText: { updater: string; name: string; description: unknown; links: unknown; text: string; hash: string } | undefined;

function textOf(v: Vulnerability): { text: string; hash: string } {
  const l = lastText;
  if (l && l.updater === v.updater && l.name === v.name && l.description === v.description && l.links === v.links) return l;
  const text = nameToMark(JSON.stringify([put(v.description), put(v.links)]), v.name);
  lastText = { updater: v.updater, name: v.name, description: v.description, links: v.links, text, hash: textHash(v.updater, text) };
  return lastText;
}

export function vulnerabilityRow(v: Vulnerability): RecordRow {
  const c = contextEntry(v);
  const hash = sha256Hex(canonicalJson(v, c.distJson, c.repoJson));
  const row = partsOf(v, c) as RecordRow;
  row.hash = hash.slice(0, HASH_HEX);
  return row;
}

/** A record's stored parts without its content hash (packed records have none: store/vulnerability-pack.ts). */
export function vulnerabilityParts(v: Vulnerability): Omit<RecordRow, 'hash'> {
  return partsOf(v, contextEntry(v));
}

function partsOf(v: Vulnerability, c: ContextEntry): Omit<RecordRow, 'hash'> {
  const d = v.dist;
  const t = textOf(v);
  const own: unknown[] = [put(v.issued), put(v.severity), put(v.normalizedSeverity), put(v.fixedInVersion), put(v.range.introduced), put(v.range.lastAffected)];
  const extras: Partial<Vulnerability> = {};
  let hasExtras = false;
  for (const k of ['aliases', 'affectedVersions', 'informational', 'functions'] as const) {
    if (v[k] !== undefined) {
      (extras as Record<string, unknown>)[k] = v[k];
      hasExtras = true;
    }
  }
  if (hasExtras) own.push(extras);
  return {
    updater: v.updater, name: v.name, packageName: v.package.name,
    context: c.context, did: d.did, versionId: d.versionId, codeName: d.versionCodeName,
    // The updater is part of the text's key: writers of different updaters never share a text row, so one never
    // waits on another's uncommitted insert of it (PostgreSQL holds a writer's rows until its commit).
    text: t.text, textHash: t.hash, data: JSON.stringify(own),
  };
}

/** The key of a stored text. */
export function textHash(updater: string, text: string): string {
  return shortHash(`${updater}\n${text}`);
}

export function enrichmentRow(e: EnrichmentRecord): RecordRow {
  // Field order fixed here, so equal records hash equal whatever order the parser built them in at the top level.
  const json = JSON.stringify({ updater: e.updater, tag: e.tag, enrichment: e.enrichment });
  return {
    hash: shortHash(json), updater: e.updater, name: e.tag, packageName: '',
    context: JSON.stringify({ u: e.updater, e: 1 }), did: '', versionId: '', codeName: '',
    text: null, textHash: null, data: JSON.stringify(e.enrichment),
  };
}

// Parsed contexts by their JSON: a database holds a few dozen, and every record read needs one.
const contexts = new Map<string, VulnContext & { e?: 1 }>();
function contextOf(json: string): VulnContext & { e?: 1 } {
  let c = contexts.get(json);
  if (!c) {
    if (contexts.size >= 4096) contexts.clear();
    c = JSON.parse(json) as VulnContext & { e?: 1 };
    contexts.set(json, c);
  }
  return c;
}

// The record's name where its text holds it. JSON.stringify writes control characters escaped, never raw, so a raw
// U+0001 in a stored text can only be this mark (U+0000 would be simpler, but PostgreSQL's text refuses it); texts
// stored before the mark existed hold none and read back as they are.
const NAME_MARK = '\u0001';

/** A stored text (vuln_text.data) with the record's name replaced by the mark. */
export function nameToMark(text: string, name: string): string {
  if (name === '') return text;
  const escaped = JSON.stringify(name).slice(1, -1);
  return text.includes(escaped) ? text.split(escaped).join(NAME_MARK) : text;
}

function markToName(text: string, name: string): string {
  return text.includes(NAME_MARK) ? text.split(NAME_MARK).join(JSON.stringify(name).slice(1, -1)) : text;
}

/** The vulnerability a stored row holds (not for enrichment rows). */
export function decodeVulnerability(p: StoredParts): Vulnerability {
  const c = contextOf(p.context);
  const t = p.text === null ? [0, 0] : (JSON.parse(markToName(p.text, p.name)) as [string | 0, string | 0]);
  const own = JSON.parse(p.data) as [string | 0, string | 0, string | 0, string | 0, string | 0, string | 0, Partial<Vulnerability>?];
  const v = {
    updater: c.u, name: p.name, description: get(t[0]), issued: get(own[0]), links: get(t[1]), severity: get(own[1]),
    normalizedSeverity: get(own[2]),
    package: { name: p.package_name, kind: get(c.k), module: get(c.m), arch: get(c.a) },
    dist: { ...c.d }, repo: { ...c.r },
    fixedInVersion: get(own[3]), versionScheme: get(c.s),
    range: { introduced: get(own[4]), lastAffected: get(own[5]) },
    archOperation: get(c.o),
    ...own[6],
  } as Vulnerability;
  return v;
}

/** The stored row's record as the canonical JSON it was hashed from (vulnerability or enrichment). */
export function decodeRecordJson(p: StoredParts): string {
  const c = contextOf(p.context);
  if (c.e === 1) return enrichmentJson(c.u, p);
  return serializeVulnerability(decodeVulnerability(p)).json;
}

function enrichmentJson(updater: string, p: StoredParts): string {
  // Exactly JSON.stringify({ updater, tag, enrichment }) of the record, without parsing the enrichment.
  return `{"updater":${JSON.stringify(updater)},"tag":${JSON.stringify(p.name)},"enrichment":${p.data}}`;
}

/** The enrichment record a stored enrichment row holds. */
export function decodeEnrichment(p: StoredParts): EnrichmentRecord {
  const c = contextOf(p.context);
  return { updater: c.u, tag: p.name, enrichment: JSON.parse(p.data) } as EnrichmentRecord;
}

/** Whether a stored row is an enrichment record. */
export function isEnrichmentRow(p: StoredParts): boolean {
  return contextOf(p.context).e === 1;
}
