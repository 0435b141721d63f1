import { createHash, randomUUID } from 'node:crypto';
import type { IndexReport } from '../model/index-report.ts';
import { packagePurl } from '../model/purl.ts';
import { indexedPackages } from '../matcher/matcher.ts';
import type { ScanReport } from './scan-report.ts';
import { TOOL_NAME, TOOL_VERSION } from './tool.ts';

// SPDX 2.3 JSON: the image as the described package (CONTAINER), the distribution (OPERATING_SYSTEM), every
// package with its purl as a PACKAGE-MANAGER external reference and, in its comment, the layer that introduced it
// and the database it was read from ("layer sha256:…: var/lib/dpkg/status": `sbom:` reads it back). A scan adds
// SECURITY advisory references per finding and states feed freshness in creationInfo.comment. No good SPDX 2.3
// writer exists for Node; the document is small and checked against the official schema in the tests.

type Json = Record<string, unknown>;

function spdxId(s: string): string {
  return s.replace(/[^A-Za-z0-9.-]/g, '-');
}

function document(index: IndexReport, reference: string, generated: string, comment: string | undefined, advisories: Map<string, string[]>): Json {
  const image = 'SPDXRef-Image';
  const packages: Json[] = [{
    SPDXID: image, name: reference, versionInfo: index.manifestHash, downloadLocation: 'NOASSERTION', filesAnalyzed: false,
    primaryPackagePurpose: 'CONTAINER', ...(index.manifestHash.startsWith('sha256:') ? { checksums: [{ algorithm: 'SHA256', checksumValue: index.manifestHash.slice(7) }] } : {}),
  }];
  const relationships: Json[] = [{ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: image }];
  for (const [id, d] of Object.entries(index.distributions)) {
    const sid = `SPDXRef-OperatingSystem-${spdxId(id)}`;
    packages.push({
      SPDXID: sid, name: d.did || d.name, ...(d.versionId ? { versionInfo: d.versionId } : {}), downloadLocation: 'NOASSERTION', filesAnalyzed: false,
      primaryPackagePurpose: 'OPERATING_SYSTEM', ...(d.prettyName ? { description: d.prettyName } : {}),
      ...(d.versionCodeName ? { comment: `version codename: ${d.versionCodeName}` } : {}),
    });
    relationships.push({ spdxElementId: image, relationshipType: 'CONTAINS', relatedSpdxElement: sid });
  }
  for (const p of indexedPackages(index)) {
    const sid = `SPDXRef-Package-${spdxId(p.id)}`;
    const purl = packagePurl(p.package, p.distribution);
    const env = index.environments[p.id]?.[0];
    const refs: Json[] = purl ? [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: purl }] : [];
    for (const url of advisories.get(p.id) ?? []) refs.push({ referenceCategory: 'SECURITY', referenceType: 'advisory', referenceLocator: url });
    packages.push({
      SPDXID: sid, name: p.package.name, ...(p.package.version ? { versionInfo: p.package.version } : {}),
      downloadLocation: 'NOASSERTION', filesAnalyzed: false, primaryPackagePurpose: 'LIBRARY',
      ...(p.package.source && p.package.source.name !== p.package.name ? { sourceInfo: `built from ${p.package.source.name} ${p.package.source.version}` } : {}),
      comment: `layer ${env?.introducedIn ?? ''}: ${env?.packageDb ?? p.package.packageDb}`,
      ...(refs.length > 0 ? { externalRefs: refs } : {}),
    });
    relationships.push({ spdxElementId: image, relationshipType: 'CONTAINS', relatedSpdxElement: sid });
  }
  const digest = createHash('sha256').update(index.manifestHash + generated).digest('hex').slice(0, 16);
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: reference,
    // A unique URI per document, as the specification asks; clair-ts owns no domain, so a URN.
    documentNamespace: `urn:uuid:${randomUUID()}#${digest}`,
    creationInfo: { created: generated.replace(/\.\d+Z$/, 'Z'), creators: [`Tool: ${TOOL_NAME}-${TOOL_VERSION}`], ...(comment ? { comment } : {}) },
    documentDescribes: [image],
    packages,
    relationships,
  };
}

/** `index --format spdx-json`. */
export function spdxInventory(index: IndexReport, reference: string, generated = new Date().toISOString()): string {
  return JSON.stringify(document(index, reference, generated, undefined, new Map()), null, 2) + '\n';
}

/** `scan --format spdx-json`: the inventory with advisory references per finding and the feeds' freshness. */
export function spdxReport(r: ScanReport): string {
  const advisories = new Map<string, string[]>();
  for (const f of r.findings) {
    const url = f.vulnerability.links.split(/\s+/).find((l) => /^https?:\/\//.test(l));
    if (url) advisories.set(f.packageId, [...new Set([...(advisories.get(f.packageId) ?? []), url])]);
  }
  const comment = [
    `${r.findings.length} findings, ${r.suppressed.length} suppressed, ${r.notChecked.length} packages not checked.`,
    ...r.feeds.map((f) => `feed ${f.feed}: ${f.operation ? `updated ${f.updated} by update operation ${f.operation}` : 'no data in the database'}`),
  ].join('\n');
  return JSON.stringify(document(r.index, r.reference, r.generated, comment, advisories), null, 2) + '\n';
}
