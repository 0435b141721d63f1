import type { Finding } from '../matcher/vulnerability-report.ts';
import type { IgnoreRule } from './ignore-file.ts';
import type { VexStatement } from './vex.ts';

// Recorded decisions about findings: a team's ignore file and VEX documents. A decision never hides a finding
// silently: each suppressed finding keeps the rule or statement that suppressed it, and an ignore entry past its
// expiry stops suppressing and is named in the report.

export interface Decisions {
  ignore: IgnoreRule[];
  /** Where the ignore rules were read from. */
  ignoreFile?: string;
  vex: VexStatement[];
}

export interface Suppression {
  finding: Finding;
  by: 'ignore' | 'vex';
  /** not_affected / fixed for VEX; "ignored" for the ignore file. */
  status: string;
  reason: string;
  /** The file (and entry) that decided. */
  source: string;
}

/** The ids a finding answers to: its own and its aliases (CVE, GHSA, …). */
export function findingIds(f: Finding): string[] {
  return [f.vulnerability.name, ...(f.vulnerability.aliases ?? [])];
}

/** Shell-style `*` patterns, case-sensitive, anchored. */
export function globMatches(pattern: string, text: string): boolean {
  const re = new RegExp('^' + pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return re.test(text);
}

/**
 * Does a purl pattern name this purl? A pattern without a version (`pkg:deb/debian/openssl`) names every version and
 * qualifier set; one with `@version` that version; `*` works anywhere.
 */
export function purlMatches(pattern: string, purl: string): boolean {
  if (pattern.includes('*')) return globMatches(pattern, purl);
  if (pattern === purl) return true;
  const bare = purl.replace(/[?#].*$/, '');
  if (pattern.includes('@')) return bare === pattern.replace(/[?#].*$/, '');
  return bare.replace(/@[^/]*$/, '') === pattern;
}

export function decide(
  found: readonly Finding[],
  purls: Record<string, string>,
  image: { reference: string; manifest: string },
  d: Decisions | undefined,
  now: Date,
): { kept: Finding[]; suppressed: Suppression[]; notices: string[] } {
  if (!d || (d.ignore.length === 0 && d.vex.length === 0)) return { kept: [...found], suppressed: [], notices: [] };
  const notices: string[] = [];
  const today = now.toISOString().slice(0, 10);
  const active: IgnoreRule[] = [];
  for (const r of d.ignore) {
    if (r.expires && r.expires < today) {
      notices.push(`ignore entry for ${r.id}${r.package ? ` (${r.package})` : ''} in ${d.ignoreFile ?? 'the ignore file'} expired on ${r.expires}: it no longer suppresses (reason was: ${r.reason})`);
    } else active.push(r);
  }
  const kept: Finding[] = [];
  const suppressed: Suppression[] = [];
  const usedVex = new Set<VexStatement>();
  for (const f of found) {
    const ids = findingIds(f);
    const purl = purls[f.packageId] ?? '';
    const rule = active.find((r) => ids.includes(r.id) && (!r.package || (r.package.startsWith('pkg:') ? purlMatches(r.package, purl) : globMatches(r.package, f.packageName))));
    if (rule) {
      suppressed.push({ finding: f, by: 'ignore', status: 'ignored', reason: rule.reason + (rule.expires ? ` (until ${rule.expires})` : ''), source: `${d.ignoreFile ?? 'ignore file'}: ${rule.id}` });
      continue;
    }
    // The most specific VEX statement decides: one naming the package beats one naming only the image; among equals
    // the later document (given later on the command line) wins.
    let best: { s: VexStatement; score: number } | undefined;
    for (const s of d.vex) {
      if (!s.ids.some((id) => ids.includes(id))) continue;
      const score = vexApplies(s, purl, image);
      if (score > 0 && (!best || score >= best.score)) best = { s, score };
    }
    if (best) usedVex.add(best.s);
    if (best && (best.s.status === 'not_affected' || best.s.status === 'fixed')) {
      const why = [best.s.justification, best.s.detail].filter(Boolean).join(': ');
      suppressed.push({ finding: f, by: 'vex', status: best.s.status, reason: why || best.s.status, source: best.s.source });
      continue;
    }
    kept.push(f);
  }
  for (const s of d.vex) {
    if ((s.status === 'not_affected' || s.status === 'fixed') && !usedVex.has(s)) {
      notices.push(`VEX statement ${s.status} for ${s.ids[0]} in ${s.source} matched no finding of this image`);
    }
  }
  return { kept, suppressed, notices };
}

/** 0: does not apply; 1: applies through the image (or to everything); 2: names the package. */
function vexApplies(s: VexStatement, purl: string, image: { reference: string; manifest: string }): number {
  if (s.products.length === 0) return 1;
  let score = 0;
  for (const p of s.products) {
    if (p.id.startsWith('pkg:') && purl && purlMatches(p.id, purl)) return 2;
    const imageId = p.id === image.reference || p.id === image.manifest || p.id.endsWith('@' + image.manifest) || (p.id.startsWith('pkg:oci/') && p.id.includes(encodeURIComponent(image.manifest)));
    if (!imageId) continue;
    if (p.subcomponents.length === 0) score = Math.max(score, 1);
    else if (purl && p.subcomponents.some((c) => purlMatches(c, purl))) return 2;
  }
  return score;
}
