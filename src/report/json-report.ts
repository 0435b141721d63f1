import { vulnerabilityReportJson } from '../model/clair-json.ts';
import type { ScanReport } from './scan-report.ts';
import { adviceLine } from './advice.ts';

// `scan --format json`: Clair's VulnerabilityReport as the API writes it, each package with its purl, and one more
// key, `clair_ts`, with what Clair's shape has no place for: the feeds used and their age, packages not checked,
// suppressed findings with their reasons, notices, advice and the per-layer counts. `vulnerabilities` and
// `package_vulnerabilities` hold the findings that stand (suppressed ones are under clair_ts.suppressed).

export function jsonReport(r: ScanReport): string {
  const vr = r.vulnerabilityReport;
  const kept = new Map<string, Set<string>>();
  for (const f of r.findings) {
    let s = kept.get(f.packageId);
    if (!s) kept.set(f.packageId, (s = new Set()));
    s.add(f.vulnerability.name);
  }
  const packageVulnerabilities: Record<string, string[]> = {};
  for (const [pid, vids] of Object.entries(vr.packageVulnerabilities)) {
    const ids = vids.filter((id) => kept.get(pid)?.has(vr.vulnerabilities.get(id)?.name ?? '') ?? false);
    if (ids.length > 0) packageVulnerabilities[pid] = ids;
  }
  const used = new Set(Object.values(packageVulnerabilities).flat());
  const vulns = new Map([...vr.vulnerabilities].filter(([id]) => used.has(id)));
  const out = vulnerabilityReportJson(r.index, vulns, packageVulnerabilities, vr.enrichments);
  for (const [id, p] of Object.entries(out.packages as Record<string, Record<string, unknown>>)) if (r.purls[id]) p.purl = r.purls[id];
  out.clair_ts = {
    reference: r.reference,
    generated: r.generated,
    feeds: r.feeds,
    not_checked: r.notChecked,
    suppressed: r.suppressed.map((s) => ({
      vulnerability: s.finding.vulnerability.name, package: s.finding.packageName, version: s.finding.installed,
      ...(r.purls[s.finding.packageId] ? { purl: r.purls[s.finding.packageId] } : {}), by: s.by, status: s.status, reason: s.reason, source: s.source,
    })),
    filtered_out: r.filteredOut,
    notices: r.notices,
    advice: r.advice.map((a) => ({ ...a, text: adviceLine(a) })),
    layers: r.layers,
  };
  return JSON.stringify(out, null, 2) + '\n';
}
