// Workaround, until src/model/clair-json.ts is fixed: vulnerabilityJson's compact() removes empty strings, which
// drops two properties the schemas require: package.version (package.schema.json; Clair sends "") and updater
// (vulnerability.schema.json; empty for summaries posted to affected_manifest). Remove this module when
// vulnerabilityJson keeps `updater` and `package.version` even when empty.

type Json = Record<string, unknown>;

export function withPackageVersion(v: Json): Json {
  let out = v.updater === undefined ? { ...v, updater: '' } : v;
  const pkg = out.package as Json | undefined;
  if (pkg && typeof pkg === 'object' && pkg.version === undefined) out = { ...out, package: { ...pkg, version: '' } };
  return out;
}

export function fixReportVulnerabilities(report: Json): Json {
  const vulns = report.vulnerabilities as Record<string, Json> | undefined;
  if (!vulns) return report;
  const fixed: Record<string, Json> = {};
  for (const [id, v] of Object.entries(vulns)) fixed[id] = withPackageVersion(v);
  return { ...report, vulnerabilities: fixed };
}
