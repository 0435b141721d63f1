import { openZip, readEntry, type ZipArchive } from './zip-archive.ts';

// Maven artifacts in a Java archive (JAR, WAR, EAR, Jenkins JPI/HPI) and the archives nested in it, read from
// memory, never unpacked to disk. The same choices as Trivy's and claircore's jar readers:
// - every META-INF/maven/<groupId>/<artifactId>/pom.properties is an artifact (a shaded or fat jar yields each one
//   it embeds); pom.properties is the authority;
// - only when an archive has none, its META-INF/MANIFEST.MF main section identifies it, and only when it names a
//   group, an artifact and a version (see fromManifest); otherwise the archive yields nothing of its own;
// - archives inside archives (WEB-INF/lib/*.jar, BOOT-INF/lib/*.jar, lib/*.jar, a WAR in an EAR) are read the
//   same way, to a bounded depth, each reported under its path inside the outer archive (`app.ear!/web.war!/…`).
// Memory is bounded per top-level archive: nested archives and metadata entries are inflated up to fixed caps, and
// the total inflated over the whole tree has a budget, so a zip bomb costs a warning, not the process.

export const JAVA_ARCHIVE = /\.(jar|war|ear|jpi|hpi)$/i;

export interface JavaLimits {
  /** Nesting below the top-level archive (ear → war → jar → shaded jar is 3). */
  maxDepth: number;
  /** Cap on one inflated pom.properties or MANIFEST.MF. */
  maxMetadataEntry: number;
  /** Cap on one inflated nested archive. */
  maxNestedArchive: number;
  /** Cap on all bytes inflated while reading one top-level archive and everything in it. */
  maxTotalInflated: number;
}

export const DEFAULT_JAVA_LIMITS: JavaLimits = {
  maxDepth: 4,
  maxMetadataEntry: 1024 * 1024,
  maxNestedArchive: 256 * 1024 * 1024,
  maxTotalInflated: 1024 * 1024 * 1024,
};

export interface MavenArtifact {
  groupId: string;
  artifactId: string;
  version: string;
  /** The archive it was found in: the layer path, then `!/` and the path inside for each nesting level. */
  location: string;
  from: 'pom.properties' | 'MANIFEST.MF';
}

export interface JavaScan {
  artifacts: MavenArtifact[];
  /** Archives (or entries) that could not be read, each naming its location. */
  warnings: string[];
}

/** Java .properties (java.util.Properties.load): comments, `=`/`:`/space separators, continuations, escapes. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] ?? '').replace(/^[ \t\f]+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    // An odd number of trailing backslashes continues the logical line.
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) line = line.slice(0, -1) + (lines[++i] ?? '').replace(/^[ \t\f]+/, '');
    let k = 0;
    while (k < line.length && !'=: \t\f'.includes(line[k] ?? '')) k += line[k] === '\\' ? 2 : 1;
    const key = unescape(line.slice(0, k));
    let v = k;
    while (v < line.length && ' \t\f'.includes(line[v] ?? '')) v++;
    if (line[v] === '=' || line[v] === ':') v++;
    while (v < line.length && ' \t\f'.includes(line[v] ?? '')) v++;
    out.set(key, unescape(line.slice(v)));
  }
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, c: string) =>
    c.length === 5 ? String.fromCharCode(parseInt(c.slice(1), 16)) : c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c === 'f' ? '\f' : c,
  );
}

/** The main section of a JAR manifest (JAR File Specification): `Name: value`, continuation lines start with a space. */
export function parseManifest(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') break; // the main section ends at the first blank line
    if (line.startsWith(' ') && last !== undefined) {
      out.set(last, (out.get(last) ?? '') + line.slice(1));
      continue;
    }
    const colon = line.indexOf(': ');
    if (colon <= 0) continue;
    last = line.slice(0, colon);
    out.set(last, line.slice(colon + 2));
  }
  return out;
}

const token = (s: string | undefined): string | undefined => (s !== undefined && s !== '' && !/\s/.test(s) ? s : undefined);

/**
 * An artifact from a manifest, for archives without pom.properties. Version: Implementation-Version, else
 * Bundle-Version. Artifact: Implementation-Title when it is a single token (`jackson-databind`; not
 * `Apache Commons Lang`), else the file name's part before `-<version>`. Group: Implementation-Vendor-Id, else the
 * OSGi Bundle-SymbolicName without its last segment (`com.fasterxml.jackson.core.jackson-databind`). Anything
 * missing: no artifact, rather than a guessed name that would match the wrong advisories.
 */
export function fromManifest(m: Map<string, string>, fileName: string): Omit<MavenArtifact, 'location' | 'from'> | undefined {
  const version = token(m.get('Implementation-Version')) ?? token(m.get('Bundle-Version'));
  if (!version) return undefined;
  const base = fileName.slice(fileName.lastIndexOf('/') + 1).replace(JAVA_ARCHIVE, '');
  const fromFile = base.endsWith(`-${version}`) ? base.slice(0, -(version.length + 1)) : undefined;
  const artifactId = token(m.get('Implementation-Title')) ?? token(fromFile);
  if (!artifactId) return undefined;
  const bsn = token(m.get('Bundle-SymbolicName')?.split(';')[0]?.trim());
  const groupId =
    token(m.get('Implementation-Vendor-Id')) ??
    (bsn?.endsWith(`.${artifactId}`) ? bsn.slice(0, -(artifactId.length + 1)) : bsn?.includes('.') ? bsn.slice(0, bsn.lastIndexOf('.')) : undefined);
  if (!groupId) return undefined;
  return { groupId, artifactId, version };
}

const MAX_WARNINGS = 20;

interface Budget {
  left: number;
  spent: boolean;
}

const POM_PROPERTIES = /^META-INF\/maven\/([^/]+)\/([^/]+)\/pom\.properties$/;

/** Every Maven artifact in the archive `data` found at `path` in a layer, nested archives included. */
export function scanJavaArchive(data: Buffer, path: string, limits: JavaLimits = DEFAULT_JAVA_LIMITS): JavaScan {
  const result: JavaScan = { artifacts: [], warnings: [] };
  const budget: Budget = { left: limits.maxTotalInflated, spent: false };
  walk(data, path, 0, limits, budget, result);
  // A hostile archive can have a million broken entries: the first warnings say enough.
  if (result.warnings.length > MAX_WARNINGS) {
    const more = result.warnings.length - MAX_WARNINGS;
    result.warnings.length = MAX_WARNINGS;
    result.warnings.push(`${path}: ${more} more warnings not shown`);
  }
  return result;
}

function walk(data: Buffer, location: string, depth: number, limits: JavaLimits, budget: Budget, out: JavaScan): void {
  let zip: ZipArchive;
  try {
    zip = openZip(data);
  } catch (e) {
    out.warnings.push(`${location}: ${(e as Error).message}`);
    return;
  }
  const read = (name: string, cap: number): Buffer | undefined => {
    const entry = zip.entries.find((e) => e.name === name);
    if (!entry) return undefined;
    return take(zip, entry, Math.min(cap, budget.left), location, budget, out);
  };

  const found: MavenArtifact[] = [];
  for (const entry of zip.entries) {
    const m = POM_PROPERTIES.exec(entry.name);
    if (!m) continue;
    const bytes = take(zip, entry, Math.min(limits.maxMetadataEntry, budget.left), location, budget, out);
    if (!bytes) continue;
    const props = parseProperties(bytes.toString('utf8'));
    const groupId = props.get('groupId') || m[1] || '';
    const artifactId = props.get('artifactId') || m[2] || '';
    const version = props.get('version') ?? '';
    // A pom.properties without a version (seen in some repackaged jars) identifies nothing matchable.
    if (version === '') continue;
    found.push({ groupId, artifactId, version, location, from: 'pom.properties' });
  }
  if (found.length === 0) {
    const manifest = read('META-INF/MANIFEST.MF', limits.maxMetadataEntry);
    const a = manifest && fromManifest(parseManifest(manifest.toString('utf8')), location);
    if (a) found.push({ ...a, location, from: 'MANIFEST.MF' });
  }
  const seen = new Set<string>();
  for (const a of found) {
    const k = `${a.groupId}:${a.artifactId}@${a.version}`;
    if (!seen.has(k)) out.artifacts.push(a);
    seen.add(k);
  }

  for (const entry of zip.entries) {
    if (budget.spent) return;
    if (entry.name.endsWith('/') || !JAVA_ARCHIVE.test(entry.name)) continue;
    const inner = `${location}!/${entry.name}`;
    if (depth + 1 > limits.maxDepth) {
      out.warnings.push(`${inner}: nested deeper than ${limits.maxDepth} archives; not read`);
      continue;
    }
    const bytes = take(zip, entry, Math.min(limits.maxNestedArchive, budget.left), location, budget, out);
    if (bytes) walk(bytes, inner, depth + 1, limits, budget, out);
  }
}

function take(zip: ZipArchive, entry: ZipArchive['entries'][number], cap: number, location: string, budget: Budget, out: JavaScan): Buffer | undefined {
  if (cap <= 0) {
    if (!budget.spent) out.warnings.push(`${location}!/${entry.name}: the archive's inflation budget is spent (zip bomb?); the rest is not read`);
    budget.spent = true;
    return undefined;
  }
  try {
    const b = readEntry(zip, entry, cap);
    // Stored entries are views and cost nothing; only inflated bytes count against the budget.
    if (entry.method !== 0) budget.left -= b.length;
    return b;
  } catch (e) {
    out.warnings.push(`${location}: ${(e as Error).message}`);
    return undefined;
  }
}
