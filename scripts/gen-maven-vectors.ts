// Generates src/versions/testdata/maven-vectors.tsv: pairs of Maven versions ordered by Maven's own
// org.apache.maven.artifact.versioning.ComparableVersion from Debian's libmaven3-core-java
// (/usr/share/java/maven-artifact-3.x.jar), through scripts/oracles/maven-version/MavenVersionOracle.java
// compiled with the installed JDK.
//
// Versions: the Maven OSV records (claircore's maven.zip and the GHSA slice), the artifact versions of
// Debian's /usr/share/maven-repo, edits of them (qualifiers, separators, case, leading zeros) and
// hand-written cases from the POM reference's version order specification.
//
// Rerun (Debian, as root):
//   apt-get install -y --no-install-recommends libmaven3-core-java default-jdk-headless
//   node_modules/.bin/node scripts/gen-maven-vectors.ts

import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commonMutations, drawPairs } from './lib/draw-pairs.ts';
import { osvVersions } from './lib/feed-versions.ts';

const JAR = '/usr/share/java/maven-artifact-3.x.jar';
const CLASSES = '/tmp/clair-ts-maven-oracle';
const javac = spawnSync('javac', ['-d', CLASSES, '-cp', JAR, 'scripts/oracles/maven-version/MavenVersionOracle.java'], { encoding: 'utf8' });
if (javac.status !== 0) throw new Error(`javac failed: ${javac.stderr}`);

const osv = osvVersions('Maven');
const byPackage = new Map<string, Set<string>>(osv.byPackage);
// /usr/share/maven-repo/<group path>/<artifact>/<version>/<artifact>-<version>.pom
let repoVersions = 0;
const walk = (dir: string, depth: number) => {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (!statSync(p).isDirectory()) {
      const m = p.match(/\/([^/]+)\/([^/]+)\/\1-\2\.pom$/);
      if (m) {
        const key = m[1] ?? '';
        let s = byPackage.get(key);
        if (!s) byPackage.set(key, (s = new Set()));
        s.add(m[2] ?? '');
        repoVersions++;
      }
    } else if (depth < 12) walk(p, depth + 1);
  }
};
walk('/usr/share/maven-repo', 0);
const all = [...new Set([...byPackage.values()].flatMap((s) => [...s]))];
const special = all.filter((v) => /[a-zA-Z_-]/.test(v));

// The POM reference's examples and the qualifier table, plus corner cases of the tokenizer.
const edge: Array<[string, string]> = [
  ['1', '1.1'], ['1-snapshot', '1'], ['1', '1-sp'], ['1-foo2', '1-foo10'], ['1.foo', '1-foo'], ['1-foo', '1-1'], ['1-1', '1.1'],
  ['1.ga', '1-ga'], ['1-ga', '1-0'], ['1-0', '1.0'], ['1.0', '1'], ['1-sp', '1-ga'], ['1-sp.1', '1-ga.1'], ['1-sp-1', '1-ga-1'],
  ['1-a1', '1-alpha-1'], ['1.0-alpha1', '1.0-alpha-1'], ['1.0-ALPHA1', '1.0-alpha1'], ['1.0-beta', '1.0-milestone'], ['1.0-m1', '1.0-rc1'],
  ['1.0-rc1', '1.0-cr1'], ['1.0-rc', '1.0-snapshot'], ['1.0-snapshot', '1.0'], ['1.0-final', '1.0'], ['1.0.release', '1.0'],
  ['1.0-sp1', '1.0-xyz'], ['1.0-xyz', '1.0-abc'], ['1.0.0.x1', '1.0.0-x2'], ['1.0.x', '1.0-x'], ['1a', '1-a'], ['1a1', '1-a-1'],
  ['1.0.RELEASE', '1.0.Final'], ['2.0.0.Final', '2.0.0.GA'], ['1..1', '1.0.1'], ['1--1', '1-0-1'], ['-1', '0-1'], ['1.', '1'],
  ['1-', '1'], ['.1', '0.1'], ['01', '1'], ['1.00', '1.0'], ['1.2147483648', '1.2147483647'], ['1.9999999999', '1.99999999999999999999'],
  ['1.123456789012345678901234567890', '1.123456789012345678901234567891'], ['1_0', '1.0'], ['1+build', '1'], ['1.0.0-jre', '1.0.0-android'],
  ['31.1-jre', '31.1-android'], ['2.13.4.2', '2.13.4'], ['2.13.4.1', '2.13.4-1'], ['1.0-SNAPSHOT', '1.0-20230101.123456-1'],
  ['5.3.18', '5.3.18.RELEASE'], ['2.0.0-M1', '2.0.0-m1'], ['1.0b', '1.0-b'], ['1.0b2', '1.0-beta-2'], ['1.0m3', '1.0-milestone-3'],
  ['1.foo.bar', '1.foo-bar'], ['1.foo.2', '1.foo-2'], ['foo.bar', 'foo-bar'], ['1.0.foo.1', '1-foo-1'], ['1-foo.bar.baz', '1-foo-bar-baz'],
  ['1.2-foo.bar-baz.qux', '1.2-foo-bar-baz-qux'], ['1.foo.0', '1.foo'], ['a.b.c', 'a-b-c'], ['1.ga.foo', '1-foo'], ['1.final.1', '1.1'],
  ['1.2.3-beta.foo', '1.2.3-beta-foo'], ['2.x', '2.x-jre'], ['1.1.0.orig', '1.1-orig'], ['0.x', 'x'],
  ['1.0.0.Beta1', '1.0.0.CR1'], ['1.0.0.CR1', '1.0.0.Final'], ['1.0.0.SP1', '1.0.0.Final'], ['1.0-sp', '1.0-sp1'],
];
const mutations = [
  ...commonMutations,
  (v: string) => `${v}-SNAPSHOT`,
  (v: string) => `${v}.Final`,
  (v: string) => `${v}-RC1`,
  (v: string) => `${v}.RELEASE`,
  (v: string) => `${v}-jre`,
  (v: string) => `${v}-1`,
  (v: string) => v.replace(/\./g, '-'),
  (v: string) => v.replace(/[-.](?=[a-zA-Z])/, ''),
  (v: string) => v.toLowerCase(),
];
const { pairs, distinct } = drawPairs({ byPackage, special, edge, mutations, target: 5000, seed: 2002 });

const res = spawnSync('java', ['-cp', `${CLASSES}:${JAR}`, 'MavenVersionOracle'], {
  input: pairs.map(([a, b]) => `${a}\t${b}`).join('\n') + '\n',
  encoding: 'utf8',
  maxBuffer: 1 << 28,
});
if (res.status !== 0) throw new Error(`java failed: ${res.stderr}`);
const impl = spawnSync('sh', ['-c', `unzip -p ${JAR} META-INF/MANIFEST.MF | sed -n 's/^Implementation-Version: //p'`], { encoding: 'utf8' }).stdout.trim();
const deb = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'libmaven3-core-java'], { encoding: 'utf8' }).stdout;
const jv = spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr.split('\n')[0];
writeFileSync(
  'src/versions/testdata/maven-vectors.tsv',
  [
    `# Generated by scripts/gen-maven-vectors.ts with ComparableVersion of maven-artifact ${impl} (Debian libmaven3-core-java ${deb}) on ${jv}.`,
    `# Versions: ${osv.sources.join(', ')}, ${repoVersions} POMs of /usr/share/maven-repo (${distinct} distinct), edits, version order specification cases.`,
    '# Columns: A, B, signum(ComparableVersion(A).compareTo(ComparableVersion(B))), ComparableVersion(A).getCanonical().',
    res.stdout.trimEnd(),
  ].join('\n') + '\n',
);
console.error(`wrote ${pairs.length} pairs from ${distinct} distinct versions`);
