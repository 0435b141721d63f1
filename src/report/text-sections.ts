import { printable } from '../model/printable.ts';
import type { ScanReport } from './scan-report.ts';
import { adviceLine } from './advice.ts';
import { feedSection } from './feed-section.ts';

// The parts of the table report after the findings: advice, layers, decisions, packages not checked, feed
// freshness. Plain lines, every value from an image or a feed made printable.

function short(d: string): string {
  const hex = d.includes(':') ? d.slice(d.indexOf(':') + 1) : d;
  return hex.slice(0, 12);
}

export function textSections(r: ScanReport, now = new Date(r.generated)): string {
  const out: string[] = [];
  if (r.advice.length > 0) {
    out.push('UPGRADES', ...r.advice.map((a) => `  ${printable(adviceLine(a))}`));
  }
  if (r.layers.length > 0 && r.findings.length > 0) {
    const base = r.layers.filter((l) => l.base).reduce((n, l) => n + l.findings, 0);
    const built = r.layers.filter((l) => !l.base).reduce((n, l) => n + l.findings, 0);
    out.push(
      `LAYERS: the base image (first ${r.layers.filter((l) => l.base).length} layer(s)) brings ${base} findings, the layers built on it ${built}`,
      ...r.layers.map((l) => `  ${l.index + 1} ${short(l.digest)}${l.base ? ' (base)' : ''}: ${l.findings}`),
    );
  }
  if (r.suppressed.length > 0) {
    out.push(`SUPPRESSED (${r.suppressed.length})`, ...r.suppressed.map((s) =>
      `  ${printable(s.finding.vulnerability.name)} ${printable(s.finding.packageName)} ${printable(s.finding.installed)}: ${s.by === 'vex' ? `VEX ${s.status}` : 'ignored'}: ${printable(s.reason)} (${printable(s.source)})`));
  }
  if (r.filteredOut > 0) out.push(`${r.filteredOut} findings left out by --only-fixed / --severity`);
  for (const n of r.notices) out.push(`notice: ${printable(n)}`);
  if (r.notChecked.length > 0) {
    const shown = r.notChecked.slice(0, 50);
    out.push(`NOT CHECKED (${r.notChecked.length} packages: no vulnerability data covers them; not counted as clean)`,
      ...shown.map((n) => `  ${printable(n.name)} ${printable(n.version)}: ${printable(n.reason)}`),
      ...(r.notChecked.length > shown.length ? [`  … and ${r.notChecked.length - shown.length} more`] : []));
  }
  // Last: a stored table (cli/stored-scan.ts) is written again with this section made anew.
  out.push(...feedSection(r.feeds, now));
  return out.length > 0 ? '\n' + out.join('\n') + '\n' : '';
}
