import * as CDX from '@cyclonedx/cyclonedx-library';
import type { IndexReport } from '../model/index-report.ts';
import type { Distribution } from '../model/distribution.ts';
import { packagePurl } from '../model/purl.ts';
import { isInformational } from '../model/vulnerability.ts';
import type { Finding } from '../matcher/vulnerability-report.ts';
import { indexedPackages } from '../matcher/matcher.ts';
import type { ScanReport } from './scan-report.ts';
import { TOOL_NAME, TOOL_VERSION } from './tool.ts';

// CycloneDX 1.6 JSON through OWASP's @cyclonedx/cyclonedx-library (its models and its 1.6 normalizer).
// The inventory: the image as metadata.component (a container), the distribution as an operating-system component,
// every package as a library with its purl and, as properties, the layer that introduced it and the database it was
// read from. A scan adds the vulnerabilities section: ratings (the feed's severity, NVD's CVSS), affects (the
// package's bom-ref, the installed version affected, the fixed version unaffected), the recommendation, and the
// decisions (a VEX statement's or an ignore entry's analysis). Feed freshness is in metadata.properties.
// Property names: clair-ts:… (CycloneDX's property taxonomy leaves tool-prefixed names to the tool).

const P = {
  layer: 'clair-ts:layer', packageDb: 'clair-ts:package-db', repository: 'clair-ts:repository', cpe: 'clair-ts:cpe',
  ownedBy: 'clair-ts:owned-by', notChecked: 'clair-ts:not-checked', manifest: 'clair-ts:manifest-digest',
  layers: 'clair-ts:layers', codename: 'clair-ts:distribution:version-codename', distCpe: 'clair-ts:distribution:cpe',
  prettyName: 'clair-ts:distribution:pretty-name', distVersion: 'clair-ts:distribution:version', arch: 'clair-ts:distribution:arch',
} as const;

function prop(name: string, value: string): CDX.Models.Property {
  return new CDX.Models.Property(name, value);
}

const SEVERITY: Record<string, CDX.Enums.Vulnerability.Severity> = {
  Critical: CDX.Enums.Vulnerability.Severity.Critical, High: CDX.Enums.Vulnerability.Severity.High,
  Medium: CDX.Enums.Vulnerability.Severity.Medium, Low: CDX.Enums.Vulnerability.Severity.Low,
  Negligible: CDX.Enums.Vulnerability.Severity.Info, Unknown: CDX.Enums.Vulnerability.Severity.Unknown,
};

interface Inventory {
  bom: CDX.Models.Bom;
  components: Map<string, CDX.Models.Component>;
}

function distributionComponent(id: string, d: Distribution): CDX.Models.Component {
  const c = new CDX.Models.Component(CDX.Enums.ComponentType.OperatingSystem, d.did || d.name, {
    bomRef: `distribution-${id}`,
    ...(d.versionId ? { version: d.versionId } : {}),
    ...(d.prettyName ? { description: d.prettyName } : {}),
  });
  if (d.versionCodeName) c.properties.add(prop(P.codename, d.versionCodeName));
  if (d.version) c.properties.add(prop(P.distVersion, d.version));
  if (d.prettyName) c.properties.add(prop(P.prettyName, d.prettyName));
  if (d.cpe) c.properties.add(prop(P.distCpe, d.cpe));
  if (d.arch) c.properties.add(prop(P.arch, d.arch));
  return c;
}

function inventory(index: IndexReport, reference: string, generated: string): Inventory {
  const bom = new CDX.Models.Bom();
  bom.metadata.timestamp = new Date(generated);
  bom.metadata.tools.components.add(new CDX.Models.Component(CDX.Enums.ComponentType.Application, TOOL_NAME, { version: TOOL_VERSION }));
  const image = new CDX.Models.Component(CDX.Enums.ComponentType.Container, reference, { bomRef: 'image', version: index.manifestHash });
  image.properties.add(prop(P.manifest, index.manifestHash));
  index.layers.forEach((l, i) => image.properties.add(prop(`${P.layers}:${i}`, l)));
  bom.metadata.component = image;
  for (const [id, d] of Object.entries(index.distributions)) bom.components.add(distributionComponent(id, d));
  const components = new Map<string, CDX.Models.Component>();
  for (const p of indexedPackages(index)) {
    const purl = packagePurl(p.package, p.distribution);
    const env = index.environments[p.id]?.[0];
    const c = new CDX.Models.Component(CDX.Enums.ComponentType.Library, p.package.name, {
      bomRef: `package-${p.id}`,
      ...(p.package.version ? { version: p.package.version } : {}),
      ...(purl ? { purl } : {}),
    });
    if (env?.introducedIn) c.properties.add(prop(P.layer, env.introducedIn));
    c.properties.add(prop(P.packageDb, env?.packageDb ?? p.package.packageDb));
    if (p.package.cpe) c.properties.add(prop(P.cpe, p.package.cpe));
    if (p.package.ownedBy) c.properties.add(prop(P.ownedBy, `${p.package.ownedBy.name} ${p.package.ownedBy.version}`));
    // Repositories that are not the language registries of the purl type (Red Hat's CPE-keyed repositories) travel
    // as properties, so an SBOM round trip keeps what matching needs.
    for (const r of p.repositories) if (r.key || r.cpe) c.properties.add(prop(P.repository, JSON.stringify(r)));
    bom.components.add(c);
    components.set(p.id, c);
  }
  return { bom, components };
}

function serialize(bom: CDX.Models.Bom): string {
  const serializer = new CDX.Serialize.JsonSerializer(new CDX.Serialize.JSON.Normalize.Factory(CDX.Spec.Spec1dot6));
  return serializer.serialize(bom, { sortLists: false, space: 2 }) + '\n';
}

/** `index --format cyclonedx`: the inventory alone. */
export function cycloneDxInventory(index: IndexReport, reference: string, generated = new Date().toISOString()): string {
  return serialize(inventory(index, reference, generated).bom);
}

function vulnerabilityOf(id: string, fs: Finding[], r: ScanReport, components: Map<string, CDX.Models.Component>, refSuffix = ''): CDX.Models.Vulnerability.Vulnerability {
  const v = fs[0]!.vulnerability;
  const link = v.links.split(/\s+/).find((l) => /^https?:\/\//.test(l));
  const vuln = new CDX.Models.Vulnerability.Vulnerability({
    bomRef: `vulnerability-${id}${refSuffix}`,
    id,
    source: new CDX.Models.Vulnerability.Source({ name: v.updater, ...(link ? { url: link } : {}) }),
    ...(v.description ? { description: v.description } : {}),
    ...(v.issued && !Number.isNaN(Date.parse(v.issued)) ? { published: new Date(v.issued) } : {}),
  });
  vuln.ratings.add(new CDX.Models.Vulnerability.Rating({
    source: new CDX.Models.Vulnerability.Source({ name: v.updater }),
    severity: SEVERITY[v.normalizedSeverity] ?? CDX.Enums.Vulnerability.Severity.Unknown,
    method: CDX.Enums.Vulnerability.RatingMethod.Other,
    ...(v.severity ? { justification: `feed severity: ${v.severity}` } : {}),
  }));
  const cvss = fs[0]!.risk.cvss;
  if (cvss) {
    const method = cvss.version.startsWith('4') ? CDX.Enums.Vulnerability.RatingMethod.CVSSv4
      : cvss.version === '3.1' ? CDX.Enums.Vulnerability.RatingMethod.CVSSv31
      : cvss.version.startsWith('3') ? CDX.Enums.Vulnerability.RatingMethod.CVSSv3 : CDX.Enums.Vulnerability.RatingMethod.CVSSv2;
    vuln.ratings.add(new CDX.Models.Vulnerability.Rating({ source: new CDX.Models.Vulnerability.Source({ name: 'nvd' }), score: cvss.score, method, vector: cvss.vector }));
  }
  for (const a of v.aliases ?? []) vuln.references.add(new CDX.Models.Vulnerability.Reference(a, new CDX.Models.Vulnerability.Source({ name: a.split('-')[0]! })));
  const fixes: string[] = [];
  for (const f of fs) {
    const c = components.get(f.packageId);
    if (!c) continue;
    const versions = [new CDX.Models.Vulnerability.AffectedSingleVersion(f.installed, { status: CDX.Enums.Vulnerability.AffectStatus.Affected })];
    if (f.vulnerability.fixedInVersion) {
      versions.push(new CDX.Models.Vulnerability.AffectedSingleVersion(f.vulnerability.fixedInVersion, { status: CDX.Enums.Vulnerability.AffectStatus.Unaffected }));
      fixes.push(`${f.packageName} ${f.vulnerability.fixedInVersion}`);
    }
    vuln.affects.add(new CDX.Models.Vulnerability.Affect(c.bomRef, { versions: new CDX.Models.Vulnerability.AffectedVersionRepository(versions) }));
  }
  if (fixes.length > 0) vuln.recommendation = `Upgrade to ${[...new Set(fixes)].join(', ')}`;
  if (isInformational(v)) vuln.properties.add(prop('clair-ts:informational', v.informational!));
  return vuln;
}

/** `scan --format cyclonedx`: inventory, vulnerabilities with their decisions, feed freshness. */
export function cycloneDxReport(r: ScanReport): string {
  const { bom, components } = inventory(r.index, r.reference, r.generated);
  for (const f of r.feeds) {
    bom.metadata.properties.add(prop(`clair-ts:feed:${f.feed}`, f.operation ? `updated ${f.updated} by update operation ${f.operation} (${f.records} records)` : 'no data in the database'));
  }
  for (const n of r.notChecked) components.get(n.packageId)?.properties.add(prop(P.notChecked, n.reason));
  for (const n of r.notices) bom.metadata.properties.add(prop('clair-ts:notice', n));
  const byId = new Map<string, Finding[]>();
  for (const f of r.findings) byId.set(f.vulnerability.name, [...(byId.get(f.vulnerability.name) ?? []), f]);
  for (const [id, fs] of byId) bom.vulnerabilities.add(vulnerabilityOf(id, fs, r, components));
  // One entry per vulnerability and decision: a flaw suppressed on one package by a VEX statement and on another by
  // an ignore entry (or kept on a third) is several entries, each with its own analysis and a bom-ref of its own.
  const suppressedByDecision = new Map<string, typeof r.suppressed>();
  for (const s of r.suppressed) {
    const k = `${s.finding.vulnerability.name}\u0000${s.by}\u0000${s.status}\u0000${s.reason}\u0000${s.source}`;
    suppressedByDecision.set(k, [...(suppressedByDecision.get(k) ?? []), s]);
  }
  let n = 0;
  for (const ss of suppressedByDecision.values()) {
    const s = ss[0]!;
    const vuln = vulnerabilityOf(s.finding.vulnerability.name, ss.map((x) => x.finding), r, components, `-suppressed-${++n}`);
    const A = CDX.Enums.Vulnerability;
    const state = s.by === 'ignore' ? A.AnalysisState.Exploitable : s.status === 'fixed' ? A.AnalysisState.Resolved : A.AnalysisState.NotAffected;
    const justification = Object.values(A.AnalysisJustification).find((j) => j === s.reason.split(':')[0]);
    vuln.analysis = new CDX.Models.Vulnerability.Analysis({
      state,
      ...(justification ? { justification } : {}),
      ...(s.by === 'ignore' ? { response: new A.AnalysisResponseRepository([A.AnalysisResponse.WillNotFix]) } : {}),
      detail: `${s.by === 'ignore' ? 'ignored' : `VEX ${s.status}`}: ${s.reason} (${s.source})`,
    });
    bom.vulnerabilities.add(vuln);
  }
  return serialize(bom);
}
