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

/** Whether Ruby runs here; skips the test (fails it under CI) when not. */
export function requireRuby(t: TestContext): boolean {
  try {
    execFileSync('ruby', ['-e', 'Gem::Version.new("1.0")'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error('ruby (Debian ruby) is required under CI');
    t.skip('ruby not installed (Debian ruby)');
    return false;
  }
}

const RUBY = String.raw`
require 'json'
data = JSON.parse(STDIN.read)
def v(s) Gem::Version.correct?(s) ? Gem::Version.new(s) : nil end
def in_range(ver, events)
  evs = []
  limits = []
  events.each do |e|
    k, x = e.first
    if k == 'limit'
      limits << v(x) unless x == '*'
      next
    end
    if k == 'introduced' && x == '0'
      evs << [0, nil, k]
      next
    end
    p = v(x)
    return false if p.nil?
    evs << [1, p, k]
  end
  return false if !limits.empty? && !limits.any? { |l| l && ver < l }
  evs.sort! { |a, b| a[0] != b[0] ? a[0] <=> b[0] : (a[1].nil? ? 0 : a[1] <=> b[1]) }
  hit = false
  evs.each do |_, p, k|
    if k == 'introduced' && (p.nil? || ver >= p) then hit = true
    elsif k == 'fixed' && ver >= p then hit = false
    elsif k == 'last_affected' && ver > p then hit = false
    end
  end
  hit
end
out = []
data['installed'].each do |name, version|
  ver = v(version)
  data['records'].each do |d|
    next if d['withdrawn']
    (d['affected'] || []).each do |a|
      next unless a['package']['ecosystem'] == 'RubyGems' && a['package']['name'] == name
      ranged = (a['ranges'] || []).any? { |r| %w[ECOSYSTEM SEMVER].include?(r['type']) && in_range(ver, r['events']) }
      listed = (a['versions'] || []).any? { |x| v(x) && v(x) == ver }
      out << [name, version, d['id']] if ranged || listed
    end
  end
end
puts JSON.generate(out.uniq.sort)
`;

/** [name, version, advisory id] triples Ruby's Gem::Version says are affected, under the schema's evaluation. */
export function rubygemsTruth(installed: Installed[], records: OsvDoc[]): string[][] {
  const input = JSON.stringify({ installed: installed.map((i) => [i.name, i.version]), records });
  return JSON.parse(execFileSync('ruby', ['-e', RUBY], { input, maxBuffer: 64 * 1024 * 1024 }).toString('utf8'));
}

const GOPATH_ENV = { GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOPROXY: 'off', GOFLAGS: '' };

/** Whether golang.org/x/mod (Debian golang-golang-x-mod-dev) builds here offline; skips (fails under CI) when not. */
export function requireGoXMod(t: TestContext): boolean {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    if (!statSync('/usr/share/gocode/src/golang.org/x/mod/semver').isDirectory()) throw new Error('no x/mod');
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error('go and golang.org/x/mod (Debian golang-go, golang-golang-x-mod-dev) are required under CI');
    t.skip('go or golang.org/x/mod not installed (Debian golang-go, golang-golang-x-mod-dev)');
    return false;
  }
}

/** Compares each (a, b) pair with an ecosystem's real implementation: sign of a − b, NaN when it cannot read one. */
export type BatchCompare = (pairs: [string, string][]) => number[];

/** golang.org/x/mod/semver.Compare (scripts/oracles/go-semver, run offline); OSV's Go versions are v-less. */
export function goCompare(gocache: string): BatchCompare {
  const withV = (s: string) => (s.startsWith('v') ? s : `v${s}`);
  return (pairs) => {
    const lines = execFileSync('go', ['run', 'scripts/oracles/go-semver/main.go'], {
      input: pairs.map(([a, b]) => `${withV(a)}\t${withV(b)}`).join('\n') + '\n', env: { ...process.env, ...GOPATH_ENV, GOCACHE: gocache }, maxBuffer: 256 * 1024 * 1024,
    }).toString('utf8').trim().split('\n');
    // Each line: A, B, Compare(A, B), IsValid(A), IsValid(B), IsPseudoVersion(A).
    return lines.map((l) => {
      const f = l.split('\t');
      return f[3] === '1' && f[4] === '1' ? Number(f[2]) : NaN;
    });
  };
}

/** Maven's ComparableVersion (scripts/oracles/maven-version, compiled with the installed JDK). */
export function mavenCompare(classes: string): BatchCompare {
  const jar = '/usr/share/java/maven-artifact-3.x.jar';
  execFileSync('javac', ['-d', classes, '-cp', jar, 'scripts/oracles/maven-version/MavenVersionOracle.java']);
  return (pairs) => {
    const lines = execFileSync('java', ['-cp', `${classes}:${jar}`, 'MavenVersionOracle'], {
      input: pairs.map(([a, b]) => `${a}\t${b}`).join('\n') + '\n', maxBuffer: 256 * 1024 * 1024,
    }).toString('utf8').trim().split('\n');
    return lines.map((l) => Number(l.split('\t')[2]));
  };
}

/** Whether javac and Maven's classes (Debian default-jdk-headless, libmaven3-core-java) are here; skips (fails under CI). */
export function requireMavenOracle(t: TestContext): boolean {
  try {
    execFileSync('javac', ['-version'], { stdio: 'ignore' });
    if (!statSync('/usr/share/java/maven-artifact-3.x.jar').isFile()) throw new Error('no maven-artifact');
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error('javac and maven-artifact (Debian default-jdk-headless, libmaven3-core-java) are required under CI');
    t.skip('javac or Maven classes not installed (Debian default-jdk-headless, libmaven3-core-java)');
    return false;
  }
}

/**
 * [package, version, advisory id] triples under the OSV schema's evaluation of the raw records of one ecosystem,
 * every version comparison made by the ecosystem's real implementation (`compare`).
 */
export function schemaTruth(ecosystem: string, installed: Installed[], records: OsvDoc[], compare: BatchCompare): string[][] {
  const relevant = new Map<string, { id: string; affected: any }[]>();
  for (const d of records) {
    if (d.withdrawn) continue;
    for (const a of d.affected ?? []) {
      if (a.package.ecosystem !== ecosystem) continue;
      const list = relevant.get(a.package.name) ?? [];
      list.push({ id: d.id, affected: a });
      relevant.set(a.package.name, list);
    }
  }
  const eventsOf = (a: any): [string, string][][] => (a.ranges ?? []).filter((r: any) => r.type === 'SEMVER' || r.type === 'ECOSYSTEM').map((r: any) => r.events.map((e: any) => Object.entries(e)[0] as [string, string]));
  const isZero = ([k, x]: [string, string]) => k === 'introduced' && x === '0';
  const pairs = new Map<string, number>();
  const need = (a: string, b: string) => void pairs.set(`${a}\t${b}`, NaN);
  for (const { name, version } of installed) {
    for (const { affected } of relevant.get(name) ?? []) {
      for (const evs of eventsOf(affected)) {
        const named = evs.filter((e) => !isZero(e) && e[1] !== '*').map(([, x]) => x);
        for (const x of named) {
          need(version, x);
          for (const y of named) need(x, y);
        }
      }
      for (const x of affected.versions ?? []) need(version, x);
    }
  }
  const keys = [...pairs.keys()];
  const answers = compare(keys.map((k) => k.split('\t') as [string, string]));
  keys.forEach((k, i) => pairs.set(k, answers[i]!));
  const cmp = (a: string, b: string) => pairs.get(`${a}\t${b}`) ?? NaN;
  const rank: Record<string, number> = { introduced: 0, last_affected: 1, fixed: 2 };
  const result: string[][] = [];
  for (const { name, version } of installed) {
    for (const { id, affected } of relevant.get(name) ?? []) {
      // Sorted and walked, the last event the version has reached decides: an introduced means affected.
      const inRange = (evs: [string, string][]): boolean => {
        const limits = evs.filter(([k, x]) => k === 'limit' && x !== '*');
        if (limits.length > 0 && !limits.some(([, x]) => cmp(version, x) < 0)) return false;
        let last: [string, string] | undefined;
        for (const e of evs) {
          const [k, x] = e;
          if (k === 'limit') continue;
          const c = isZero(e) ? 1 : cmp(version, x);
          if (Number.isNaN(c) || (k === 'last_affected' ? c <= 0 : c < 0)) continue;
          if (!last) {
            last = e;
            continue;
          }
          const order = isZero(e) ? (isZero(last) ? 0 : -1) : isZero(last) ? 1 : cmp(x, last[1]);
          if (order > 0 || (order === 0 && rank[k]! > rank[last[0]]!)) last = e;
        }
        return last?.[0] === 'introduced';
      };
      const hit = eventsOf(affected).some(inRange) || (affected.versions ?? []).some((x: string) => cmp(version, x) === 0);
      if (hit) result.push([name, version, id]);
    }
  }
  return result;
}

/**
 * The `semver` crate's VersionReq::matches, what cargo audit decides with (scripts/oracles/cargo-semver, built
 * offline with Debian's cargo against librust-semver-dev): for each (version, requirement), true when it matches.
 * Undefined when the oracle cannot be built here; CI requires it.
 */
export function cargoReqMatcher(t: TestContext, target: string): ((pairs: [string, string][]) => boolean[]) | undefined {
  const env = { ...process.env, RUSTC: '/usr/bin/rustc', CARGO_HOME: `${target}/cargo-home`, CARGO_TARGET_DIR: target };
  try {
    execFileSync('/usr/bin/cargo', ['build', '--release', '--offline', '--quiet'], { cwd: 'scripts/oracles/cargo-semver', env, stdio: 'pipe' });
  } catch (e) {
    if (process.env.CI === 'true') throw new Error(`the semver crate oracle does not build (Debian cargo, librust-semver-dev): ${(e as Error).message}`);
    t.skip('Debian cargo with librust-semver-dev not installed');
    return undefined;
  }
  return (pairs) => {
    const lines = execFileSync(`${target}/release/cargo-semver-oracle`, [], {
      input: pairs.map(([v, r]) => `req\t${v}\t${r}`).join('\n') + '\n', maxBuffer: 256 * 1024 * 1024,
    }).toString('utf8').trim().split('\n');
    return lines.map((l, i) => {
      const answer = l.split('\t')[2];
      if (answer !== '0' && answer !== '1') throw new Error(`the semver crate cannot read ${JSON.stringify(pairs[i])}`);
      return answer === '1';
    });
  };
}
