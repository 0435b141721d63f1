import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { TestContext } from 'node:test';
import { parse as parseYaml } from 'yaml';

// What the OSV schema's own evaluation says about installed language packages, with the ecosystem's own version
// rules: the raw records (not clair-ts's parse of them) and a program in the ecosystem's language that sorts each
// range's events and walks them, as https://ossf.github.io/osv-schema/#evaluation describes, comparing versions with
// the ecosystem's real implementation (python3-packaging's Version, Ruby's Gem::Version).

export interface Installed {
  name: string;
  version: string;
}

export type OsvDoc = Record<string, any>;

/** Every OSV document under a folder (.json, .yaml) or in a JSON array file (.json, .json.gz). */
export function readOsvDocs(path: string): OsvDoc[] {
  if (statSync(path).isDirectory()) {
    return readdirSync(path, { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.(json|ya?ml)$/.test(f) && !f.split('/').some((s) => s.startsWith('.')))
      .flatMap((f) => readOsvDocs(join(path, f)));
  }
  const raw = readFileSync(path);
  const text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const doc = /\.ya?ml$/.test(path) ? parseYaml(text, { schema: 'failsafe' }) : JSON.parse(text);
  return Array.isArray(doc) ? doc : [doc];
}

const PYTHON = String.raw`
import json, sys
from packaging.version import Version, InvalidVersion
data = json.load(sys.stdin)
def V(s):
    try: return Version(s)
    except InvalidVersion: return None
def in_range(v, events):
    # The schema's evaluation: sort the events by version ("0" first), walk them.
    evs = []
    limits = []
    for e in events:
        (k, x), = e.items()
        if k == 'limit':
            if x != '*': limits.append(V(x))
            continue
        if k == 'introduced' and x == '0': evs.append((0, None, k)); continue
        p = V(x)
        if p is None: return False
        evs.append((1, p, k))
    if limits and not any(l is not None and v < l for l in limits): return False
    evs.sort(key=lambda t: (t[0], t[1]) if t[1] is not None else (0,))  # "0" sorts before every version
    hit = False
    for _, p, k in evs:
        if k == 'introduced' and (p is None or v >= p): hit = True
        elif k == 'fixed' and v >= p: hit = False
        elif k == 'last_affected' and v > p: hit = False
    return hit
out = []
for name, version in data['installed']:
    v = V(version)
    for d in data['records']:
        if d.get('withdrawn'): continue
        for a in d.get('affected', []):
            if a['package']['ecosystem'] != data['ecosystem'] or norm(a['package']['name']) != name: continue
            hit = any(in_range(v, r['events']) for r in a.get('ranges', []) if r['type'] in ('ECOSYSTEM', 'SEMVER')) or any(V(x) is not None and V(x) == v for x in a.get('versions', []))
            if hit: out.append([name, version, d['id']])
print(json.dumps(sorted(set(map(tuple, out)))))
`;

/** Whether python3 with packaging runs here; skips the test (fails it under CI) when not. */
export function requirePythonPackaging(t: TestContext): boolean {
  try {
    execFileSync('python3', ['-c', 'import packaging.version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error('python3 with packaging (Debian python3-packaging) is required under CI');
    t.skip('python3 with packaging not installed (Debian python3-packaging)');
    return false;
  }
}

/** [name, version, advisory id] triples python3-packaging says are affected (PEP 503 names). */
export function pypiTruth(installed: Installed[], records: OsvDoc[]): string[][] {
  const script = `import re\ndef norm(n): return re.sub(r'[-_.]+', '-', n).lower()\n${PYTHON}`;
  const input = JSON.stringify({ installed: installed.map((i) => [i.name, i.version]), records, ecosystem: 'PyPI' });
  return JSON.parse(execFileSync('python3', ['-c', script], { input, maxBuffer: 64 * 1024 * 1024 }).toString('utf8'));
}

/**
 * [name, version, advisory id] triples for npm packages under the schema's evaluation with node-semver (npm's own
 * version implementation), computed here on the raw records.
 */
export async function npmTruth(installed: Installed[], records: OsvDoc[]): Promise<string[][]> {
  const semver = (await import('semver')).default;
  const valid = (s: string) => semver.valid(s) !== null;
  const inRange = (v: string, events: Record<string, string>[]): boolean => {
    const evs: { k: string; x: string }[] = [];
    const limits: string[] = [];
    for (const e of events) {
      const [k, x] = Object.entries(e)[0]!;
      if (k === 'limit') {
        if (x !== '*') limits.push(x);
        continue;
      }
      if (!(k === 'introduced' && x === '0') && !valid(x)) return false;
      evs.push({ k, x });
    }
    if (limits.length > 0 && !limits.some((l) => valid(l) && semver.lt(v, l))) return false;
    evs.sort((a, b) => (a.x === '0' && a.k === 'introduced' ? -1 : b.x === '0' && b.k === 'introduced' ? 1 : semver.compare(a.x, b.x)));
    let hit = false;
    for (const { k, x } of evs) {
      if (k === 'introduced' && (x === '0' || semver.gte(v, x))) hit = true;
      else if (k === 'fixed' && semver.gte(v, x)) hit = false;
      else if (k === 'last_affected' && semver.gt(v, x)) hit = false;
    }
    return hit;
  };
  const out = new Set<string>();
  for (const { name, version } of installed) {
    for (const d of records) {
      if (d.withdrawn) continue;
      for (const a of d.affected ?? []) {
        if (a.package.ecosystem !== 'npm' || a.package.name !== name) continue;
        const ranged = (a.ranges ?? []).some((r: any) => (r.type === 'SEMVER' || r.type === 'ECOSYSTEM') && inRange(version, r.events));
        const listed = (a.versions ?? []).some((x: string) => valid(x) && semver.eq(x, version));
        if (ranged || listed) out.add(JSON.stringify([name, version, d.id]));
      }
    }
  }
  return [...out].map((s) => JSON.parse(s));
}
