import { printable } from '../model/printable.ts';
import { NORMALIZED_SEVERITIES, severityRank } from '../model/severity.ts';
import type { IndexReport } from '../model/index-report.ts';
import type { Finding } from '../matcher/vulnerability-report.ts';
import { isInformational } from '../model/vulnerability.ts';

// Plain-text tables for people; --format json is for programs.

/**
 * Cells come from images and feeds: printable() turns control characters into visible escapes, so a package name
 * cannot move the cursor or recolour the terminal. Widths are computed in a loop (no Math.max(...rows): an image
 * with 130k packages is over the stack's limit for spread arguments).
 */
export function table(headers: string[], rows: string[][]): string {
  const safe = rows.map((r) => r.map((c) => printable(c ?? '')));
  const widths = headers.map((h) => h.length);
  for (const r of safe) for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i]!, (r[i] ?? '').length);
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [line(headers)];
  for (const r of safe) out.push(line(r));
  return out.join('\n');
}

/** "sha256:0123456789abcdef…" → "0123456789ab". */
export function shortDigest(d: string): string {
  const hex = d.includes(':') ? d.slice(d.indexOf(':') + 1) : d;
  return hex.slice(0, 12);
}

/** "python:usr/lib/…" → "python"; OS package databases (plain paths) → undefined. */
export function languageOf(packageDb: string): string | undefined {
  const m = /^([a-z0-9]+):(?!\/)/.exec(packageDb);
  return m ? m[1] : undefined;
}

/** Packages grouped by ecosystem: the OS packages first, then each language (its registry, owner and file). */
export function renderIndexTable(r: IndexReport): string {
  const dist = Object.values(r.distributions)[0];
  const byName = (a: string[], b: string[]) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : a[1]! < b[1]! ? -1 : a[1]! > b[1]! ? 1 : 0);
  const os: string[][] = [];
  const langs = new Map<string, string[][]>();
  for (const [id, p] of Object.entries(r.packages)) {
    const env = r.environments[id]?.[0];
    const layer = shortDigest(env?.introducedIn ?? '');
    const lang = languageOf(p.packageDb);
    if (lang === undefined) {
      os.push([p.name, p.version, p.source && p.source.name !== p.name ? `${p.source.name} ${p.source.version}` : '', p.arch, layer]);
      continue;
    }
    let rows = langs.get(lang);
    if (!rows) langs.set(lang, (rows = []));
    const owner = p.ownedBy ? `${p.ownedBy.name} ${p.ownedBy.version}` : '';
    rows.push([p.name, p.version, owner, layer, p.packageDb.slice(lang.length + 1)]);
  }
  const total = Object.keys(r.packages).length;
  const counts = [...(os.length > 0 ? [`${os.length} os`] : []), ...[...langs].sort(([a], [b]) => (a < b ? -1 : 1)).map(([l, rows]) => `${rows.length} ${l}`)];
  const head = `${printable(r.manifestHash)}\n${printable(dist ? dist.prettyName || `${dist.did} ${dist.versionId}` : 'no distribution detected')}, ${total} packages${langs.size > 0 ? ` (${counts.join(', ')})` : ''}`;
  const sections: string[] = [];
  if (os.length > 0 || langs.size === 0) {
    const t = table(['PACKAGE', 'VERSION', 'SOURCE', 'ARCH', 'LAYER'], os.sort(byName));
    sections.push(langs.size > 0 ? `OS PACKAGES (${os.length})\n${t}` : t);
  }
  for (const [lang, rows] of [...langs].sort(([a], [b]) => (a < b ? -1 : 1))) {
    sections.push(`${lang.toUpperCase()} (${rows.length})\n${table(['PACKAGE', 'VERSION', 'OWNED BY', 'LAYER', 'PATH'], rows.sort(byName))}`);
  }
  return `${head}\n\n${sections.join('\n\n')}${r.err ? `\n\nwarnings: ${printable(r.err)}` : ''}\n`;
}

/** Within each severity, findings are grouped by ecosystem (debian beside pypi beside crates.io), then by id. */
function byEcosystem(a: Finding, b: Finding): number {
  return cmp(a.ecosystem, b.ecosystem) || cmp(a.vulnerability.name, b.vulnerability.name) || cmp(a.packageName, b.packageName) || cmp(a.foundIn, b.foundIn);
}

function fixedIn(f: Finding): string {
  const v = f.vulnerability;
  if (v.fixedInVersion) return v.fixedInVersion;
  return v.range.lastAffected ? `(after ${v.range.lastAffected})` : '(no fix yet)';
}

/** "7.5", "97%" and "KEV" cells; empty when the fact is unknown. */
function riskCells(f: Finding): string[] {
  const r = f.risk;
  return [r.cvss ? r.cvss.score.toFixed(1) : '', r.epss ? `${Math.floor(r.epss.percentile * 100)}%` : '', r.kev ? 'KEV' : ''];
}

/** KEV first, then higher EPSS probability, then higher severity, then higher CVSS: what to fix first. */
export function byRisk(a: Finding, b: Finding): number {
  return (
    Number(b.risk.kev !== undefined) - Number(a.risk.kev !== undefined) ||
    (b.risk.epss?.score ?? -1) - (a.risk.epss?.score ?? -1) ||
    severityRank(b.vulnerability.normalizedSeverity) - severityRank(a.vulnerability.normalizedSeverity) ||
    (b.risk.cvss?.score ?? -1) - (a.risk.cvss?.score ?? -1) ||
    byEcosystem(a, b)
  );
}

export function renderScanTable(manifest: string, found: Finding[], opts: { sort?: 'severity' | 'risk' } = {}): string {
  if (found.length === 0) return `${printable(manifest)}\nNo known vulnerabilities.\n`;
  const parts = [printable(manifest)];
  const counts: string[] = [];
  const vulns = found.filter((f) => !isInformational(f.vulnerability));
  const notices = found.filter((f) => isInformational(f.vulnerability));
  // The CVSS, EPSS (percentile) and KEV columns appear once any enrichment data applies.
  const enriched = vulns.some((f) => f.risk.cvss || f.risk.epss || f.risk.kev);
  // Language findings say which file (lockfile, dist-info, binary) holds the package: the component it belongs to.
  const located = found.some((f) => f.foundIn);
  const head = ['ECOSYSTEM', 'VULNERABILITY', 'ALIASES', 'PACKAGE', 'INSTALLED', 'FIXED IN', 'LAYER', ...(located ? ['FOUND IN'] : []), ...(enriched ? ['CVSS', 'EPSS', 'KEV'] : [])];
  const row = (f: Finding) => [
    f.ecosystem, f.vulnerability.name, (f.vulnerability.aliases ?? []).join(' '), f.packageName, f.installed, fixedIn(f), shortDigest(f.introducedIn),
    ...(located ? [printable(f.foundIn)] : []),
    ...(enriched ? riskCells(f) : []),
  ];
  for (const sev of [...NORMALIZED_SEVERITIES].reverse()) {
    const n = vulns.filter((f) => f.vulnerability.normalizedSeverity === sev).length;
    if (n > 0) counts.push(`${sev}: ${n}`);
  }
  if (opts.sort === 'risk') {
    if (vulns.length > 0) parts.push('\n' + table(['SEVERITY', ...head], [...vulns].sort(byRisk).map((f) => [f.vulnerability.normalizedSeverity, ...row(f)])));
  } else {
    for (const sev of [...NORMALIZED_SEVERITIES].reverse()) {
      const group = vulns.filter((f) => f.vulnerability.normalizedSeverity === sev);
      if (group.length === 0) continue;
      group.sort(byEcosystem);
      parts.push(`\n${sev.toUpperCase()} (${group.length})\n` + table(head, group.map(row)));
    }
  }
  if (notices.length > 0) {
    // RustSec's unmaintained / unsound / notice advisories: worth reading, not vulnerabilities, never counted by --fail-on.
    notices.sort(byEcosystem);
    parts.push(
      `\nINFORMATIONAL (${notices.length}, not counted by --fail-on)\n` +
        table(
          ['ECOSYSTEM', 'ADVISORY', 'KIND', 'PACKAGE', 'INSTALLED', 'FIXED IN', 'LAYER', ...(located ? ['FOUND IN'] : [])],
          notices.map((f) => [f.ecosystem, f.vulnerability.name, printable(f.vulnerability.informational!), f.packageName, f.installed, fixedIn(f), shortDigest(f.introducedIn), ...(located ? [printable(f.foundIn)] : [])]),
        ),
    );
  }
  const kev = vulns.filter((f) => f.risk.kev).length;
  parts.push(
    `\n${vulns.length} findings${counts.length > 0 ? ` (${counts.join(', ')})` : ''}${notices.length > 0 ? `, ${notices.length} informational` : ''}` +
      `${kev > 0 ? `; ${kev} in CISA's Known Exploited Vulnerabilities catalog` : ''}`,
  );
  return parts.join('\n') + '\n';
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
