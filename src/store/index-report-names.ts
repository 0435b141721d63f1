import type { IndexReport } from '../model/index-report.ts';

/** Binary and source package names of a report: the keys under which the notifier looks manifests up. */
export function indexReportPackageNames(report: IndexReport): string[] {
  const names = new Set<string>();
  for (const p of Object.values(report.packages)) {
    names.add(p.name);
    if (p.source?.name) names.add(p.source.name);
  }
  return [...names].sort();
}
