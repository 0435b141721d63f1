import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { installedPackages } from '../src/ecosystems/dpkg/status-file.ts';
import { apkPackages, APK_INSTALLED_DB } from '../src/ecosystems/apk/installed-db.ts';
import { RHEL_CPE_REPOSITORY_KEY } from '../src/ecosystems/rhel/csaf-vex.ts';
import type { IndexReport } from '../src/model/index-report.ts';
import { emptyDistribution, type Distribution } from '../src/model/distribution.ts';
import type { Package } from '../src/model/package.ts';
import type { Repository } from '../src/model/repository.ts';
import { fileInTarGz } from '../test/support/distro-images.ts';
import { sharedDataPath } from '../test/support/shared-data.ts';
import { mulberry32 } from '../test/support/prng.ts';

// Many different images for the notifier bench, derived from real package lists: the Debian test image's index
// report, Ubuntu's texlive dpkg status (claircore's fixture), three Alpine minirootfs releases and three Red Hat
// content manifests (httpd, nodejs, bdb on RHEL 9). Half the images are on the Debian base, the others spread over
// the seven other bases; each image leaves out about one package in ten and moves about one in five to one of three
// other builds of its version: images of one base share most of their packages, as images built on one base do, and
// differ in the rest.

export interface Base {
  name: string;
  packages: Package[];
  distribution: Distribution;
  repositories: Repository[];
}

const DPKG = 'var/lib/dpkg/status';

export function benchBases(debian: IndexReport): Base[] {
  const bases: Base[] = [];
  const debDist = Object.values(debian.distributions)[0]!;
  bases.push({ name: 'debian-bookworm (test image)', packages: Object.values(debian.packages), distribution: debDist, repositories: [] });
  const texlive = readFileSync(sharedDataPath('fixtures/ubuntu/claircore-texlive.status'), 'utf8');
  bases.push({
    name: 'ubuntu-bionic (texlive status)', packages: installedPackages(texlive, DPKG, true),
    distribution: { ...emptyDistribution(), did: 'ubuntu', name: 'Ubuntu', versionId: '18.04', versionCodeName: 'bionic', version: '18.04.3 LTS (Bionic Beaver)', prettyName: 'Ubuntu 18.04.3 LTS' },
    repositories: [],
  });
  for (const f of ['alpine-minirootfs-3.18.9-x86_64.tar.gz', 'alpine-minirootfs-3.19.4-x86_64.tar.gz', 'alpine-minirootfs-20240923-x86_64.tar.gz']) {
    const tarball = sharedDataPath('fixtures/alpine', f);
    const db = fileInTarGz(tarball, APK_INSTALLED_DB)!.toString('utf8');
    const osRelease = fileInTarGz(tarball, 'etc/os-release')?.toString('utf8') ?? '';
    const versionId = /^VERSION_ID=(.*)$/m.exec(osRelease)?.[1]?.replace(/"/g, '') ?? '3.20.3';
    bases.push({
      name: `alpine-${versionId} (${f})`, packages: apkPackages(db, APK_INSTALLED_DB),
      distribution: { ...emptyDistribution(), did: 'alpine', name: 'Alpine Linux', versionId, prettyName: `Alpine Linux v${versionId}` },
      repositories: [],
    });
  }
  const rhelCpes = ['cpe:/o:redhat:enterprise_linux:9::baseos', 'cpe:/a:redhat:enterprise_linux:9::appstream'];
  for (const f of ['httpd-24_9.5-1734525854.rpm-manifest.json', 'nodejs.rpm-manifest.json', 'bdb.rpm-manifest.json']) {
    const doc = JSON.parse(readFileSync(sharedDataPath('fixtures/claircore/rhel/testdata', f), 'utf8')) as { rpms: Record<string, string>[] };
    bases.push({
      name: `rhel-9 (${basename(f, '.rpm-manifest.json')} content manifest)`,
      packages: doc.rpms.map((r) => ({
        name: r.name!, version: `${r.version}-${r.release}`, kind: 'binary', arch: r.architecture ?? '', module: '', cpe: '',
        packageDb: 'var/lib/rpm/rpmdb.sqlite', repositoryHint: r._repositoryhint ?? '',
        ...(r.srpm_name ? { source: { name: r.srpm_name, version: /-([^-]+-[^-]+)\.src$/.exec(r.srpm_nevra ?? '')?.[1] ?? '' } } : {}),
      })),
      distribution: { ...emptyDistribution(), did: 'rhel', name: 'Red Hat Enterprise Linux', versionId: '9.5', cpe: rhelCpes[0]!, prettyName: 'Red Hat Enterprise Linux 9.5 (Plow)' },
      repositories: rhelCpes.map((cpe) => ({ name: cpe, key: RHEL_CPE_REPOSITORY_KEY, uri: '', cpe })),
    });
  }
  return bases;
}

/** Another build of a version, valid in the package's own scheme, and newer than it. */
function rebuilt(p: Package, k: number): string {
  if (p.packageDb === APK_INSTALLED_DB) return p.version.replace(/-r(\d+)$/, (_, n: string) => `-r${Number(n) + k}`);
  if (p.packageDb.startsWith('var/lib/rpm/')) return `${p.version}.${k}`;
  return `${p.version}+b${k}`;
}

export function manifestDigest(i: number): string {
  return 'sha256:' + createHash('sha256').update(`bench-notifier-image-${i}`).digest('hex');
}

/** Image i of the bench: its base's packages, some left out, some at another build. */
export function benchImage(bases: Base[], i: number): IndexReport {
  const base = i % 2 === 0 ? bases[0]! : bases[1 + ((i >> 1) % (bases.length - 1))]!;
  // Deterministic: image i is the same in every run.
  const next = mulberry32(i + 1);
  const r: IndexReport = {
    manifestHash: manifestDigest(i), state: 'IndexFinished', success: true, err: '', packages: {}, distributions: { '1': base.distribution },
    repositories: {}, environments: {}, layers: [],
  };
  base.repositories.forEach((repo, k) => (r.repositories[String(k + 1)] = repo));
  const repositoryIds = base.repositories.map((_, k) => String(k + 1));
  base.packages.forEach((p, k) => {
    if (next() < 0.1) return;
    let pkg = p;
    if (next() < 0.2) {
      const build = 1 + Math.floor(next() * 3);
      const version = rebuilt(p, build);
      pkg = { ...p, version, ...(p.source ? { source: { ...p.source, version: p.source.version === p.version ? version : p.source.version } } : {}) };
    }
    const id = String(k + 1);
    r.packages[id] = pkg;
    r.environments[id] = [{ packageDb: pkg.packageDb, introducedIn: 'sha256:' + '0'.repeat(64), distributionId: '1', repositoryIds }];
  });
  return r;
}

/** Source package names (what Debian's records name), Debian's first, then the other bases' in order. */
export function sourceNames(bases: Base[]): string[] {
  const names = new Set<string>();
  for (const b of bases) for (const p of b.packages) names.add(p.source?.name || p.name);
  return [...names];
}
