import type { NormalizedSeverity } from '../model/severity.ts';
import type { Finding } from '../matcher/vulnerability-report.ts';
import type { ScanReport } from './scan-report.ts';
import type { Suppression } from './decisions.ts';
import { TOOL_NAME, TOOL_VERSION } from './tool.ts';

// SARIF 2.1.0 (OASIS) as GitHub code scanning and GitLab read it: one rule per vulnerability (help text, the
// `security-severity` score GitHub ranks alerts by, tags), one result per vulnerable package, located at the
// package's database inside the image (the dpkg status file, a Cargo.lock, a Go binary) with the package's purl as
// a logical location; the image is the run's analysis target. Suppressed findings are results with a suppression
// (their reason and source), never dropped. Feed freshness and notices are the invocation's notifications.

type Json = Record<string, unknown>;

/** GitHub's scale: 9.0+ critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low. */
const SEVERITY_SCORE: Record<NormalizedSeverity, string | undefined> = {
  Critical: '9.5', High: '8.0', Medium: '5.5', Low: '3.0', Negligible: '0.5', Unknown: undefined,
};

function level(s: NormalizedSeverity): 'error' | 'warning' | 'note' {
  return s === 'Critical' || s === 'High' ? 'error' : s === 'Medium' ? 'warning' : 'note';
}

/** Where the package lives inside the image: its database file (language packages: the file they were read from). */
function packageLocation(r: ScanReport, f: Finding): string {
  const env = r.index.environments[f.packageId]?.[0];
  const db = env?.packageDb ?? r.index.packages[f.packageId]?.packageDb ?? '';
  const path = /^[a-z0-9]+:(?!\/)/.test(db) ? db.slice(db.indexOf(':') + 1) : db;
  return path.replace(/^\/+/, '') || 'image';
}

function rule(f: Finding): Json {
  const v = f.vulnerability;
  const links = v.links.split(/\s+/).filter((l) => /^https?:\/\//.test(l));
  const score = f.risk.cvss ? f.risk.cvss.score.toFixed(1) : SEVERITY_SCORE[v.normalizedSeverity];
  const summary = (v.description.split(/(?<=\.)\s/)[0] ?? '').slice(0, 300) || `${v.name} in ${f.packageName}`;
  const help = [
    `${v.name}${v.aliases?.length ? ` (${v.aliases.join(', ')})` : ''}: ${v.normalizedSeverity}${v.severity && v.severity !== v.normalizedSeverity ? ` (feed: ${v.severity})` : ''}`,
    v.description,
    v.fixedInVersion ? `Fixed in ${v.fixedInVersion}.` : 'No fixed version yet.',
    ...links,
  ].filter(Boolean);
  return {
    id: v.name,
    name: v.name.replace(/[^A-Za-z0-9]/g, ''),
    shortDescription: { text: `${v.name}: ${f.packageName}` },
    fullDescription: { text: summary },
    ...(links[0] ? { helpUri: links[0] } : {}),
    help: { text: help.join('\n\n'), markdown: help.map((l) => (/^https?:\/\//.test(l) ? `<${l}>` : l)).join('\n\n') },
    defaultConfiguration: { level: level(v.normalizedSeverity) },
    properties: {
      ...(score ? { 'security-severity': score } : {}),
      precision: 'very-high',
      tags: ['security', 'vulnerability', v.normalizedSeverity.toLowerCase(), f.ecosystem],
    },
  };
}

function result(r: ScanReport, f: Finding, ruleIndex: number, s?: Suppression): Json {
  const v = f.vulnerability;
  const purl = r.purls[f.packageId];
  const fix = v.fixedInVersion ? `fixed in ${v.fixedInVersion}` : 'no fixed version yet';
  return {
    ruleId: v.name,
    ruleIndex,
    level: level(v.normalizedSeverity),
    message: { text: `${f.packageName} ${f.installed} is affected by ${v.name} (${v.normalizedSeverity}); ${fix}. Introduced by layer ${f.introducedIn}.` },
    analysisTarget: { uri: encodeURI(r.reference), index: 0 },
    locations: [{
      physicalLocation: { artifactLocation: { uri: encodeURI(packageLocation(r, f)) }, region: { startLine: 1 } },
      logicalLocations: [{ name: f.packageName, fullyQualifiedName: purl ?? `${f.packageName}@${f.installed}`, kind: 'package' }],
    }],
    // Stable across runs of the same image and across images sharing the package: GitHub tracks alerts by these.
    partialFingerprints: { 'clair-ts/v1': `${v.name}|${purl ?? f.packageName}|${f.installed}` },
    ...(s ? { suppressions: [{ kind: 'external', status: 'accepted', justification: `${s.by === 'vex' ? `VEX ${s.status}` : 'ignored'}: ${s.reason} (${s.source})` }] } : {}),
    properties: {
      package: f.packageName, installedVersion: f.installed, fixedVersion: v.fixedInVersion, layer: f.introducedIn,
      ...(purl ? { purl } : {}),
      ...(f.risk.epss ? { epss: f.risk.epss.score } : {}),
      ...(f.risk.kev ? { kev: true } : {}),
    },
  };
}

export function sarifReport(r: ScanReport): string {
  const rules: Json[] = [];
  const ruleIndex = new Map<string, number>();
  const indexOf = (f: Finding): number => {
    let i = ruleIndex.get(f.vulnerability.name);
    if (i === undefined) {
      i = rules.length;
      ruleIndex.set(f.vulnerability.name, i);
      rules.push(rule(f));
    }
    return i;
  };
  const results = [
    ...r.findings.map((f) => result(r, f, indexOf(f))),
    ...r.suppressed.map((s) => result(r, s.finding, indexOf(s.finding), s)),
  ];
  const notifications: Json[] = [
    ...r.feeds.map((f) => ({
      level: f.operation ? 'note' : 'warning',
      message: { text: f.operation ? `feed ${f.feed}: updated ${f.updated} by update operation ${f.operation}` : `feed ${f.feed}: no data in the database` },
      descriptor: { id: 'feed-freshness' },
    })),
    ...r.notices.map((n) => ({ level: 'warning', message: { text: n }, descriptor: { id: 'decision' } })),
    ...(r.notChecked.length > 0
      ? [{ level: 'warning', message: { text: `${r.notChecked.length} packages were not checked: ${r.notChecked.slice(0, 20).map((n) => `${n.name} ${n.version} (${n.reason})`).join('; ')}` }, descriptor: { id: 'not-checked' } }]
      : []),
  ];
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: TOOL_NAME, version: TOOL_VERSION, semanticVersion: TOOL_VERSION, rules } },
      // SARIF locations are URI references: a path with blanks in docker-archive:/my images/app.tar is encoded.
      artifacts: [{ location: { uri: encodeURI(r.reference) }, roles: ['analysisTarget'], description: { text: `container image ${r.manifest}` } }],
      invocations: [{ executionSuccessful: true, endTimeUtc: r.generated, toolExecutionNotifications: notifications }],
      results,
      properties: {
        manifestDigest: r.manifest,
        feeds: r.feeds,
        notChecked: r.notChecked.map((n) => ({ package: n.name, version: n.version, ...(n.purl ? { purl: n.purl } : {}), reason: n.reason })),
      },
    }],
  };
  return JSON.stringify(log, null, 2) + '\n';
}
