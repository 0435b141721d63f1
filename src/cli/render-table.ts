import { NORMALIZED_SEVERITIES, severityRank } from '../model/severity.ts';
import type { IndexReport } from '../model/index-report.ts';
import type { Finding } from '../matcher/vulnerability-report.ts';

// Plain-text tables for people; --format json is for programs.

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** "sha256:0123456789abcdef…" → "0123456789ab". */
export function shortDigest(d: string): string {
  const hex = d.includes(':') ? d.slice(d.indexOf(':') + 1) : d;
  return hex.slice(0, 12);
}

export function renderIndexTable(r: IndexReport): string {
  const dist = Object.values(r.distributions)[0];
  const rows = Object.entries(r.packages)
    .map(([id, p]) => [p.name, p.version, p.source && p.source.name !== p.name ? `${p.source.name} ${p.source.version}` : '', p.arch, shortDigest(r.environments[id]?.[0]?.introducedIn ?? '')])
    .sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
  const head = `${r.manifestHash}\n${dist ? dist.prettyName || `${dist.did} ${dist.versionId}` : 'no distribution detected'}, ${rows.length} packages`;
  return `${head}\n\n${table(['PACKAGE', 'VERSION', 'SOURCE', 'ARCH', 'LAYER'], rows)}${r.err ? `\n\nwarnings: ${r.err}` : ''}\n`;
}

export function renderScanTable(manifest: string, found: Finding[]): string {
  if (found.length === 0) return `${manifest}\nNo known vulnerabilities.\n`;
  const parts = [`${manifest}`];
  const counts: string[] = [];
  for (const sev of [...NORMALIZED_SEVERITIES].reverse()) {
    const group = found.filter((f) => f.vulnerability.normalizedSeverity === sev);
    if (group.length === 0) continue;
    counts.push(`${sev}: ${group.length}`);
    group.sort((a, b) => cmp(a.vulnerability.name, b.vulnerability.name) || cmp(a.packageName, b.packageName));
    parts.push(
      `\n${sev.toUpperCase()} (${group.length})\n` +
        table(
          ['VULNERABILITY', 'PACKAGE', 'INSTALLED', 'FIXED IN', 'LAYER'],
          group.map((f) => [f.vulnerability.name, f.packageName, f.installed, f.vulnerability.fixedInVersion || '(no fix yet)', shortDigest(f.introducedIn)]),
        ),
    );
  }
  parts.push(`\n${found.length} findings (${counts.join(', ')})`);
  return parts.join('\n') + '\n';
}

export function atOrAbove(found: Finding[], threshold: (typeof NORMALIZED_SEVERITIES)[number]): Finding[] {
  return found.filter((f) => severityRank(f.vulnerability.normalizedSeverity) >= severityRank(threshold));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
