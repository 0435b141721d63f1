import { lazyRequire } from '../../model/lazy-require.ts';
import type { NormalizedSeverity } from '../../model/severity.ts';

const cvss = lazyRequire<typeof import('ae-cvss-calculator')>('ae-cvss-calculator');

// Severity of a language advisory: the CVSS base score of the vector the record carries, banded as NVD bands it
// (0 None, 0.1–3.9 Low, 4.0–6.9 Medium, 7.0–8.9 High, 9.0–10.0 Critical; None is Clair's Negligible), else GitHub's
// own word (database_specific.severity: LOW, MODERATE, HIGH, CRITICAL). Scores are computed by ae-cvss-calculator
// (FIRST's formulas for v2, v3.0, v3.1 and v4.0); a vector missing a base metric is not scored rather than guessed.

export interface SeverityEntry {
  type: string;
  score: string;
}

export interface Severity {
  /** The text shown as the record's severity: the vector, or GitHub's word. */
  severity: string;
  normalized: NormalizedSeverity;
  /** The CVSS base score, when a vector gave one. */
  score?: number;
}

// The base metrics each version requires, with their allowed values (FIRST's specifications, section "Vector String").
const V3_BASE = { AV: 'NALP', AC: 'LH', PR: 'NLH', UI: 'NR', S: 'UC', C: 'HLN', I: 'HLN', A: 'HLN' };
const BASE: Record<string, Record<string, string>> = {
  '2': { AV: 'LAN', AC: 'HML', Au: 'MSN', C: 'NPC', I: 'NPC', A: 'NPC' },
  '3.0': V3_BASE,
  '3.1': V3_BASE,
  '4.0': { AV: 'NALP', AC: 'LH', AT: 'NP', PR: 'NLH', UI: 'NPA', VC: 'HLN', VI: 'HLN', VA: 'HLN', SC: 'HLN', SI: 'HLN', SA: 'HLN' },
};
// The other (temporal, threat, environmental, supplemental) metric names; their values are left to the calculator.
const OTHER: Record<string, readonly string[]> = {
  '2': ['E', 'RL', 'RC', 'CDP', 'TD', 'CR', 'IR', 'AR'],
  '3.0': ['E', 'RL', 'RC', 'CR', 'IR', 'AR', 'MAV', 'MAC', 'MPR', 'MUI', 'MS', 'MC', 'MI', 'MA'],
  '3.1': ['E', 'RL', 'RC', 'CR', 'IR', 'AR', 'MAV', 'MAC', 'MPR', 'MUI', 'MS', 'MC', 'MI', 'MA'],
  '4.0': ['E', 'CR', 'IR', 'AR', 'MAV', 'MAC', 'MAT', 'MPR', 'MUI', 'MVC', 'MVI', 'MVA', 'MSC', 'MSI', 'MSA', 'S', 'AU', 'R', 'V', 'RE', 'U'],
};

/** Base score of a CVSS vector (v2 without prefix, `CVSS:3.0/`, `CVSS:3.1/`, `CVSS:4.0/`); undefined when not a complete vector. */
export function cvssBaseScore(vector: string): number | undefined {
  const v = vector.trim();
  const m = /^CVSS:(3\.0|3\.1|4\.0)\/(.*)$/.exec(v);
  const version = m ? m[1]! : '2';
  const body = m ? m[2]! : v.replace(/^\(|\)$/g, '');
  const metrics = new Map<string, string>();
  const base = BASE[version]!;
  for (const part of body.split('/')) {
    const kv = /^([A-Za-z]+):([A-Za-z]+)$/.exec(part);
    if (!kv || metrics.has(kv[1]!)) return undefined;
    const [, key, value] = kv as unknown as [string, string, string];
    if (key in base ? !(value.length === 1 && base[key]!.includes(value)) : !OTHER[version]!.includes(key)) return undefined;
    metrics.set(key, value);
  }
  if (!Object.keys(base).every((k) => metrics.has(k))) return undefined;
  try {
    const calc = version === '2' ? new (cvss().Cvss2)(body) : version === '3.0' ? new (cvss().Cvss3P0)(v) : version === '3.1' ? new (cvss().Cvss3P1)(v) : new (cvss().Cvss4P0)(v);
    const base = calc.calculateScores().base;
    return typeof base === 'number' && Number.isFinite(base) && base >= 0 && base <= 10 ? base : undefined;
  } catch {
    return undefined;
  }
}

export function severityOfScore(score: number): NormalizedSeverity {
  if (score === 0) return 'Negligible';
  if (score < 4) return 'Low';
  if (score < 7) return 'Medium';
  if (score < 9) return 'High';
  return 'Critical';
}

const GITHUB_WORDS: Record<string, NormalizedSeverity> = { LOW: 'Low', MODERATE: 'Medium', MEDIUM: 'Medium', HIGH: 'High', CRITICAL: 'Critical' };

/** CVSS v3 first (what NVD and GitHub score by), then v4, then v2; then GitHub's word. Undefined when none is usable. */
export function advisorySeverity(entries: readonly SeverityEntry[], githubWord?: string): Severity | undefined {
  for (const type of ['CVSS_V3', 'CVSS_V4', 'CVSS_V2']) {
    for (const e of entries) {
      if (e.type !== type) continue;
      const score = cvssBaseScore(e.score);
      if (score !== undefined) return { severity: e.score, normalized: severityOfScore(score), score };
    }
  }
  const word = githubWord?.trim().toUpperCase();
  if (word && GITHUB_WORDS[word]) return { severity: word, normalized: GITHUB_WORDS[word] };
  return undefined;
}
