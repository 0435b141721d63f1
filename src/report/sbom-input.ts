import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ClairError, errorMessage } from '../model/errors.ts';
import { emptyDistribution, type Distribution } from '../model/distribution.ts';
import type { Environment, IndexReport } from '../model/index-report.ts';
import { parsePurl } from '../model/purl.ts';
import type { Repository } from '../model/repository.ts';
import { repositoryKey } from '../model/repository.ts';

// `sbom:FILE` as an image reference: a CycloneDX or SPDX JSON SBOM (clair-ts's own, Syft's, Trivy's) read into an
// IndexReport, so matching runs without the image. Packages come from purls; the distribution from the SBOM's
// operating-system component (CycloneDX) / OPERATING_SYSTEM package (SPDX), else from the purls' `distro`
// qualifier ("debian-12"). The introducing layer is read where a tool writes it: clair-ts's `clair-ts:layer`
// property or SPDX comment, Trivy's `aquasecurity:trivy:LayerDiffID`/`LayerDigest`; without one the report
// has a single pseudo-layer, the SBOM file's digest.

interface SbomComponent {
  purl: string;
  /** The source package when the SBOM states it beside the purl (Trivy's SrcName/SrcVersion properties). */
  source?: { name: string; version: string };
  layer?: string;
  packageDb?: string;
  repositories: Repository[];
}

interface SbomFacts {
  manifest?: string;
  layers: string[];
  os?: Distribution;
  components: SbomComponent[];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function propsOf(c: Record<string, unknown>): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const p of Array.isArray(c.properties) ? (c.properties as Record<string, unknown>[]) : []) {
    const n = str(p.name);
    const v = str(p.value);
    if (n && v) m.set(n, [...(m.get(n) ?? []), v]);
  }
  return m;
}

function cycloneDx(doc: Record<string, unknown>): SbomFacts {
  const meta = (doc.metadata ?? {}) as Record<string, unknown>;
  const mc = (meta.component ?? {}) as Record<string, unknown>;
  const mprops = propsOf(mc);
  const layers = [...mprops].filter(([k]) => k.startsWith('clair-ts:layers:')).sort(([a], [b]) => Number(a.split(':').pop()) - Number(b.split(':').pop())).map(([, v]) => v[0]!);
  const manifest = mprops.get('clair-ts:manifest-digest')?.[0] ?? (str(mc.version)?.startsWith('sha256:') ? (mc.version as string) : undefined);
  const facts: SbomFacts = { layers, components: [], ...(manifest ? { manifest } : {}) };
  const walk = (cs: unknown): void => {
    if (!Array.isArray(cs)) return;
    for (const c of cs as Record<string, unknown>[]) {
      const props = propsOf(c);
      if (c.type === 'operating-system' && !facts.os) {
        facts.os = {
          ...emptyDistribution(),
          did: (str(c.name) ?? '').toLowerCase(), name: str(c.name) ?? '', versionId: str(c.version) ?? '',
          versionCodeName: props.get('clair-ts:distribution:version-codename')?.[0] ?? '',
          version: props.get('clair-ts:distribution:version')?.[0] ?? '',
          prettyName: props.get('clair-ts:distribution:pretty-name')?.[0] ?? str(c.description) ?? '',
          cpe: props.get('clair-ts:distribution:cpe')?.[0] ?? '',
          arch: props.get('clair-ts:distribution:arch')?.[0] ?? '',
        };
      }
      const purl = str(c.purl);
      if (purl) {
        const layer = props.get('clair-ts:layer')?.[0] ?? props.get('aquasecurity:trivy:LayerDiffID')?.[0] ?? props.get('aquasecurity:trivy:LayerDigest')?.[0];
        const packageDb = props.get('clair-ts:package-db')?.[0];
        const repositories = (props.get('clair-ts:repository') ?? []).map((j) => JSON.parse(j) as Repository);
        // Trivy names the source package in properties, not in the purl: version [epoch:]version[-release].
        const srcName = props.get('aquasecurity:trivy:SrcName')?.[0];
        const srcVersion = props.get('aquasecurity:trivy:SrcVersion')?.[0];
        const srcRelease = props.get('aquasecurity:trivy:SrcRelease')?.[0];
        const srcEpoch = props.get('aquasecurity:trivy:SrcEpoch')?.[0];
        const source = srcName && srcVersion
          ? { name: srcName, version: `${srcEpoch && srcEpoch !== '0' ? `${srcEpoch}:` : ''}${srcVersion}${srcRelease ? `-${srcRelease}` : ''}` }
          : undefined;
        facts.components.push({ purl, repositories, ...(source ? { source } : {}), ...(layer ? { layer } : {}), ...(packageDb ? { packageDb } : {}) });
      }
      walk(c.components);
    }
  };
  walk(doc.components);
  return facts;
}

function spdx(doc: Record<string, unknown>): SbomFacts {
  const facts: SbomFacts = { layers: [], components: [] };
  for (const p of Array.isArray(doc.packages) ? (doc.packages as Record<string, unknown>[]) : []) {
    if (p.primaryPackagePurpose === 'CONTAINER' && str(p.versionInfo)?.startsWith('sha256:')) facts.manifest = p.versionInfo as string;
    if ((p.primaryPackagePurpose === 'OPERATING_SYSTEM' || p.primaryPackagePurpose === 'OPERATING-SYSTEM') && !facts.os) {
      const codename = /version codename: (\S+)/.exec(str(p.comment) ?? '')?.[1] ?? '';
      facts.os = { ...emptyDistribution(), did: (str(p.name) ?? '').toLowerCase(), name: str(p.name) ?? '', versionId: str(p.versionInfo) ?? '', versionCodeName: codename, prettyName: str(p.description) ?? '' };
    }
    const refs = Array.isArray(p.externalRefs) ? (p.externalRefs as Record<string, unknown>[]) : [];
    const purl = refs.find((r) => r.referenceType === 'purl' && str(r.referenceLocator));
    if (!purl) continue;
    const m = /^layer (\S*): (.+)$/.exec(str(p.comment) ?? '');
    facts.components.push({ purl: purl.referenceLocator as string, repositories: [], ...(m?.[1] ? { layer: m[1] } : {}), ...(m?.[2] ? { packageDb: m[2] } : {}) });
  }
  return facts;
}

/** "debian-12" → did debian, versionId 12; "alpine-3.19.1" → 3.19.1. */
function distroFromQualifier(namespace: string | undefined, distro: string): Distribution {
  const m = /^([a-z]+)-(.+)$/.exec(distro);
  const did = m ? m[1]! : distro || namespace || '';
  return { ...emptyDistribution(), did: did === 'redhat' ? 'rhel' : did, name: did, versionId: m ? m[2]! : '' };
}

export function sbomIndexReport(text: string, file: string): IndexReport {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new ClairError('bad-input', `sbom:${file}: not JSON: ${errorMessage(e)}`);
  }
  if (typeof doc !== 'object' || doc === null) throw new ClairError('bad-input', `sbom:${file}: not a JSON object`);
  const facts = doc.bomFormat === 'CycloneDX' ? cycloneDx(doc) : typeof doc.spdxVersion === 'string' ? spdx(doc) : undefined;
  if (!facts) throw new ClairError('bad-input', `sbom:${file}: neither CycloneDX JSON (bomFormat) nor SPDX JSON (spdxVersion)`);
  const fileDigest = `sha256:${createHash('sha256').update(text).digest('hex')}`;
  const manifestHash = facts.manifest ?? fileDigest;
  const report: IndexReport = {
    manifestHash, state: 'IndexFinished', success: true, err: '', packages: {}, distributions: {}, repositories: {}, environments: {}, layers: [...facts.layers],
  };
  const distIds = new Map<string, string>();
  const distId = (d: Distribution): string => {
    const k = [d.did, d.versionId, d.versionCodeName, d.cpe, d.arch].join('|');
    let id = distIds.get(k);
    if (!id) {
      id = String(distIds.size + 1);
      distIds.set(k, id);
      report.distributions[id] = d;
    }
    return id;
  };
  const repoIds = new Map<string, string>();
  const repoId = (r: Repository): string => {
    const k = repositoryKey(r);
    let id = repoIds.get(k);
    if (!id) {
      id = String(repoIds.size + 1);
      repoIds.set(k, id);
      report.repositories[id] = r;
    }
    return id;
  };
  const skipped: string[] = [];
  let n = 0;
  for (const c of facts.components) {
    let parsed;
    try {
      parsed = parsePurl(c.purl, c.packageDb?.replace(/^[a-z]+:/, '') ?? 'sbom');
    } catch (e) {
      skipped.push(`${c.purl}: ${errorMessage(e)}`);
      continue;
    }
    if (!parsed) continue;
    const id = String(++n);
    const pkg = { ...parsed.package, ...(c.packageDb ? { packageDb: c.packageDb } : {}), ...(c.source && !parsed.package.source ? { source: c.source } : {}) };
    const layer = c.layer ?? (report.layers[0] ?? fileDigest);
    if (!report.layers.includes(layer)) report.layers.push(layer);
    const env: Environment = { packageDb: pkg.packageDb, introducedIn: layer, distributionId: '', repositoryIds: [] };
    if (parsed.repository) env.repositoryIds.push(repoId(parsed.repository));
    for (const r of c.repositories) env.repositoryIds.push(repoId(r));
    if (!parsed.repository) {
      const os = facts.os?.did ? facts.os : parsed.distro ? distroFromQualifier(parsed.namespace, parsed.distro) : undefined;
      if (os) env.distributionId = distId(os);
    }
    report.packages[id] = pkg;
    report.environments[id] = [env];
  }
  if (skipped.length > 0) report.err = `skipped ${skipped.length} components with a bad purl: ${skipped.slice(0, 3).join('; ')}`;
  return report;
}

export async function readSbom(file: string): Promise<IndexReport> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ClairError('bad-input', `sbom:${file}: ${errorMessage(e)}`);
  }
  return sbomIndexReport(text, file);
}
