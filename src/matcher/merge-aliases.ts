import { severityRank } from '../model/severity.ts';
import { isInformational } from '../model/vulnerability.ts';
import type { StoredVulnerability } from '../store/store.ts';

// One vulnerability, one finding. GitHub, PyPA, RustSec and the Go team each publish their own advisory for the same
// flaw (GHSA-…, PYSEC-…, RUSTSEC-…, GO-…, all naming the CVE), and a feed may hold an advisory in several records
// (one per affected interval); matching finds each. Here, per package, records whose ids or aliases meet are one
// finding: the most telling record stays (highest severity, then one with a fix, then a vulnerability over a
// notice), carrying every other id in `aliases` and a link to each, which Clair's report shape keeps in `links`.
// The merge is per package and at report time, so the store keeps each feed's records as published and the
// notifier still sees each feed's own changes.

export interface MatchedVulnerabilities {
  packageVulnerabilities: Record<string, string[]>;
  vulnerabilities: Map<string, StoredVulnerability>;
}

/** A link for an advisory id: NVD for CVEs, GitHub for GHSAs, OSV for the rest. */
export function aliasLink(id: string): string {
  if (/^CVE-\d{4}-\d+$/.test(id)) return `https://nvd.nist.gov/vuln/detail/${id}`;
  if (id.startsWith('GHSA-')) return `https://github.com/advisories/${id}`;
  return `https://osv.dev/vulnerability/${id}`;
}

function better(a: StoredVulnerability, b: StoredVulnerability): boolean {
  const sa = severityRank(a.normalizedSeverity);
  const sb = severityRank(b.normalizedSeverity);
  if (sa !== sb) return sa > sb;
  if (!!a.fixedInVersion !== !!b.fixedInVersion) return !!a.fixedInVersion;
  if (isInformational(a) !== isInformational(b)) return !isInformational(a);
  if (a.name !== b.name) return a.name < b.name;
  return Number(a.id) < Number(b.id);
}

export function mergeAliases(m: MatchedVulnerabilities): MatchedVulnerabilities {
  const packageVulnerabilities: Record<string, string[]> = {};
  // Representative record id → every id its groups held, across packages.
  // null: the record's own name only, which is what most records of an OS feed hold (no set made for each).
  const idsOf = new Map<string, Set<string> | null>();
  for (const [pkg, vids] of Object.entries(m.packageVulnerabilities)) {
    const vulns = vids.map((id) => m.vulnerabilities.get(id)!).filter((v) => v !== undefined);
    if (!vulns.some((v) => v.aliases?.length) && new Set(vulns.map((v) => v.name)).size === vulns.length) {
      // No two records meet: every record is its own group.
      for (const v of vulns) if (!idsOf.has(v.id)) idsOf.set(v.id, null);
      packageVulnerabilities[pkg] = vulns.map((v) => v.id).sort((a, b) => Number(a) - Number(b));
      continue;
    }
    // Union-find over the records of this package, joined by shared ids.
    const parent = vulns.map((_, i) => i);
    const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
    const owner = new Map<string, number>();
    vulns.forEach((v, i) => {
      for (const id of [v.name, ...(v.aliases ?? [])]) {
        const j = owner.get(id);
        if (j === undefined) owner.set(id, i);
        else parent[find(i)] = find(j);
      }
    });
    const groups = new Map<number, StoredVulnerability[]>();
    vulns.forEach((v, i) => {
      const root = find(i);
      const g = groups.get(root);
      if (g) g.push(v);
      else groups.set(root, [v]);
    });
    const kept: string[] = [];
    for (const group of groups.values()) {
      let rep = group[0]!;
      for (const v of group) if (better(v, rep)) rep = v;
      kept.push(rep.id);
      const ids = idsOf.get(rep.id) ?? new Set<string>([rep.name]);
      for (const v of group) for (const id of [v.name, ...(v.aliases ?? [])]) ids.add(id);
      idsOf.set(rep.id, ids);
    }
    packageVulnerabilities[pkg] = kept.sort((a, b) => Number(a) - Number(b));
  }
  const vulnerabilities = new Map<string, StoredVulnerability>();
  for (const [id, ids] of idsOf) {
    const v = m.vulnerabilities.get(id)!;
    ids?.delete(v.name);
    if (!ids || ids.size === 0) {
      vulnerabilities.set(id, v);
      continue;
    }
    const aliases = [...ids].sort();
    const have = new Set(v.links.split(/\s+/).filter(Boolean));
    const extra = aliases.map(aliasLink).filter((l) => !have.has(l));
    vulnerabilities.set(id, { ...v, aliases, links: [v.links, ...extra].filter(Boolean).join(' ') });
  }
  return { packageVulnerabilities, vulnerabilities };
}
