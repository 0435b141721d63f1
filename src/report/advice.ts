import type { IndexReport } from '../model/index-report.ts';
import { severityRank, type NormalizedSeverity } from '../model/severity.ts';
import { isInformational } from '../model/vulnerability.ts';
import { versionSchemes } from '../versions/registry.ts';
import type { Finding } from '../matcher/vulnerability-report.ts';

// What to do about the findings. Per package: the smallest version that fixes every finding on it, by the
// ecosystem's own version order (the largest of the fixed versions: each fix is the first version without that flaw).
// Per layer: how many findings the base image brings and how many the layers built on it, so a team sees whether
// rebuilding on a newer base is the remedy.

export interface PackageAdvice {
  packageId: string;
  name: string;
  installed: string;
  /** The version that fixes every fixable finding on the package; undefined when none has a fix. */
  upgradeTo?: string;
  fixes: number;
  /** Findings on the package that no version fixes yet. */
  unfixed: number;
  /** Fixed findings by severity, most severe first. */
  bySeverity: { severity: NormalizedSeverity; count: number }[];
  layer: string;
}

export interface LayerSummary {
  digest: string;
  index: number;
  base: boolean;
  findings: number;
}

export function packageAdvice(found: readonly Finding[]): PackageAdvice[] {
  const byPkg = new Map<string, Finding[]>();
  for (const f of found) {
    if (isInformational(f.vulnerability)) continue;
    let l = byPkg.get(f.packageId);
    if (!l) byPkg.set(f.packageId, (l = []));
    l.push(f);
  }
  const out: PackageAdvice[] = [];
  for (const [id, fs] of byPkg) {
    const fixable = fs.filter((f) => f.vulnerability.fixedInVersion !== '');
    let target: string | undefined;
    for (const f of fixable) {
      const v = f.vulnerability.fixedInVersion;
      const scheme = versionSchemes.get(f.vulnerability.versionScheme);
      if (target === undefined) target = v;
      else if (scheme) {
        try {
          if (scheme.compare(v, target) > 0) target = v;
        } catch {
          // A fixed version the scheme refuses cannot be ordered: keep the others' answer.
        }
      }
    }
    const counts = new Map<NormalizedSeverity, number>();
    for (const f of fixable) counts.set(f.vulnerability.normalizedSeverity, (counts.get(f.vulnerability.normalizedSeverity) ?? 0) + 1);
    out.push({
      packageId: id, name: fs[0]!.packageName, installed: fs[0]!.installed, fixes: fixable.length, unfixed: fs.length - fixable.length,
      bySeverity: [...counts].sort(([a], [b]) => severityRank(b) - severityRank(a)).map(([severity, count]) => ({ severity, count })),
      layer: fs[0]!.introducedIn,
      ...(target !== undefined ? { upgradeTo: target } : {}),
    });
  }
  // Most fixes first: the upgrades that clear the most.
  return out.sort((a, b) => b.fixes - a.fixes || worst(b) - worst(a) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function worst(a: PackageAdvice): number {
  return a.bySeverity.length > 0 ? severityRank(a.bySeverity[0]!.severity) : -1;
}

/** "upgrade openssl 3.0.11-1~deb12u2 → 3.0.15-1~deb12u1: fixes 7, 2 High". */
export function adviceLine(a: PackageAdvice): string {
  const high = a.bySeverity.filter((s) => s.severity === 'Critical' || s.severity === 'High').map((s) => `${s.count} ${s.severity}`);
  const unfixed = a.unfixed > 0 ? `; ${a.unfixed} without a fix yet` : '';
  if (a.upgradeTo === undefined) return `${a.name} ${a.installed}: no fixed version yet for its ${a.unfixed} finding(s)`;
  return `upgrade ${a.name} ${a.installed} → ${a.upgradeTo}: fixes ${a.fixes}${high.length > 0 ? `, ${high.join(', ')}` : ''}${unfixed}`;
}

export function layerSummary(index: IndexReport, found: readonly Finding[], baseLayers: number): LayerSummary[] {
  const counts = new Map<string, number>();
  for (const f of found) if (!isInformational(f.vulnerability)) counts.set(f.introducedIn, (counts.get(f.introducedIn) ?? 0) + 1);
  return index.layers.map((digest, i) => ({ digest, index: i, base: i < baseLayers, findings: counts.get(digest) ?? 0 }));
}
