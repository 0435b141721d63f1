import { PackageURL } from 'packageurl-js';
import type { Distribution } from './distribution.ts';
import type { Package } from './package.ts';
import type { Repository } from './repository.ts';

// Package URLs (https://github.com/package-url/purl-spec): the identity SBOM and report tools key packages by.
// OS packages carry the distribution the way Syft and Trivy write it (`distro=debian-12`), so a clair-ts SBOM is read
// by them and theirs by `sbom:`; dpkg packages name their source in `upstream` (`openssl`, or `openssl@3.0.11-1` when
// the source version differs from the binary's).

/** The language package repositories of the language package contract, by purl type. */
export const LANGUAGE_REPOSITORIES: Readonly<Record<string, Repository>> = {
  pypi: { name: 'pypi', key: '', uri: 'https://pypi.org/simple', cpe: '' },
  npm: { name: 'npm', key: '', uri: 'https://registry.npmjs.org/', cpe: '' },
  golang: { name: 'go', key: '', uri: 'https://proxy.golang.org/', cpe: '' },
  maven: { name: 'maven', key: '', uri: 'https://repo1.maven.apache.org/maven2', cpe: '' },
  gem: { name: 'rubygems', key: '', uri: 'https://rubygems.org/', cpe: '' },
  cargo: { name: 'crates.io', key: '', uri: 'https://crates.io/', cpe: '' },
};

/** Package database prefixes (`python:…`) of language packages → purl type. */
const PURL_TYPE_BY_DB_PREFIX: Readonly<Record<string, string>> = {
  python: 'pypi', npm: 'npm', go: 'golang', maven: 'maven', java: 'maven', rubygems: 'gem', ruby: 'gem', cargo: 'cargo', rust: 'cargo',
};

/** The OS package format a package database path belongs to. */
export function osPackageType(packageDb: string): 'deb' | 'rpm' | 'apk' | undefined {
  if (packageDb.includes('var/lib/dpkg/')) return 'deb';
  if (packageDb.includes('lib/apk/db/')) return 'apk';
  if (/(^|\/)(var\/lib\/rpm|usr\/lib\/sysimage\/rpm)(\/|$)/.test(packageDb) || packageDb.startsWith('rpm:')) return 'rpm';
  return undefined;
}

/** "python:usr/lib/…" → "pypi"; OS databases → undefined. */
export function languagePurlType(packageDb: string): string | undefined {
  const m = /^([a-z]+):(?!\/)/.exec(packageDb);
  return m ? PURL_TYPE_BY_DB_PREFIX[m[1]!] : undefined;
}

/** The purl `distro` qualifier: "debian-12", "ubuntu-22.04", "alpine-3.19.1", "rhel-9.3" (Syft's form). */
export function distroQualifier(d: Distribution | undefined): string | undefined {
  if (!d || !d.did) return undefined;
  const v = d.versionId || d.versionCodeName;
  return v ? `${d.did}-${v}` : d.did;
}

function osNamespace(type: 'deb' | 'rpm' | 'apk', d: Distribution | undefined): string {
  const did = d?.did ?? '';
  if (type === 'rpm') return did === 'rhel' || did === '' ? 'redhat' : did;
  if (type === 'deb') return did || 'debian';
  return did || 'alpine';
}

/** The purl of a package, or undefined for a package of no known ecosystem. */
export function packagePurl(p: Package, dist?: Distribution): string | undefined {
  const lang = languagePurlType(p.packageDb);
  if (lang) {
    const version = p.version || undefined;
    switch (lang) {
      case 'npm': {
        const slash = p.name.startsWith('@') ? p.name.indexOf('/') : -1;
        return slash > 0
          ? new PackageURL('npm', p.name.slice(0, slash), p.name.slice(slash + 1), version).toString()
          : new PackageURL('npm', undefined, p.name, version).toString();
      }
      case 'golang': {
        const slash = p.name.lastIndexOf('/');
        return slash > 0
          ? new PackageURL('golang', p.name.slice(0, slash), p.name.slice(slash + 1), version).toString()
          : new PackageURL('golang', undefined, p.name, version).toString();
      }
      case 'maven': {
        const colon = p.name.indexOf(':');
        return colon > 0
          ? new PackageURL('maven', p.name.slice(0, colon), p.name.slice(colon + 1), version).toString()
          : new PackageURL('maven', undefined, p.name, version).toString();
      }
      default:
        return new PackageURL(lang, undefined, p.name, version).toString();
    }
  }
  const type = osPackageType(p.packageDb);
  if (!type) return undefined;
  const qualifiers: Record<string, string> = {};
  if (p.arch) qualifiers.arch = p.arch;
  const distro = distroQualifier(dist);
  if (distro) qualifiers.distro = distro;
  if (type === 'rpm') {
    // rpm versions in clair-ts are EVR strings ("1:3.0.7-1.el9"); the purl keeps the epoch as a qualifier.
    const m = /^(\d+):(.*)$/.exec(p.version);
    if (m) qualifiers.epoch = m[1]!;
    if (p.source?.name) qualifiers.upstream = p.source.name;
    return new PackageURL('rpm', osNamespace(type, dist), p.name, m ? m[2]! : p.version, qualifiers).toString();
  }
  if (p.source?.name && (p.source.name !== p.name || (p.source.version && p.source.version !== p.version))) {
    qualifiers.upstream = p.source.version && p.source.version !== p.version ? `${p.source.name}@${p.source.version}` : p.source.name;
  }
  if (type === 'apk' && p.source?.name && p.source.name !== p.name) qualifiers.upstream = p.source.name;
  return new PackageURL(type, osNamespace(type, dist), p.name, p.version, qualifiers).toString();
}

/** A purl read back into what matching needs: the package, its repository (language) or distribution facts (OS). */
export interface PurlPackage {
  type: string;
  package: Package;
  repository?: Repository;
  /** For OS packages: the namespace (debian, ubuntu, redhat, alpine) and the distro qualifier ("debian-12"). */
  namespace?: string;
  distro?: string;
}

const OS_PACKAGE_DB: Readonly<Record<string, string>> = {
  deb: 'var/lib/dpkg/status', rpm: 'var/lib/rpm/rpmdb.sqlite', apk: 'lib/apk/db/installed',
};

const DB_PREFIX_BY_PURL_TYPE: Readonly<Record<string, string>> = {
  pypi: 'python', npm: 'npm', golang: 'go', maven: 'maven', gem: 'rubygems', cargo: 'cargo',
};

/** PEP 503: lowercase, runs of -_. as one -. */
function pep503(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/**
 * Reads a purl; undefined for a type clair-ts does not match (pkg:generic, pkg:oci…). `where` names the package
 * database of the package (`python:<file>`): an SBOM says which file a package came from only in its own terms.
 * Throws PackageURL's error for a malformed purl.
 */
export function parsePurl(purl: string, where = 'sbom'): PurlPackage | undefined {
  const u = PackageURL.fromString(purl);
  const q = (u.qualifiers ?? {}) as Record<string, string>;
  const version = u.version ?? '';
  const base = { kind: 'binary' as const, arch: q.arch ?? '', module: '', cpe: '', repositoryHint: '' };
  const repository = LANGUAGE_REPOSITORIES[u.type];
  if (repository) {
    let name = u.name;
    if (u.type === 'npm' && u.namespace) name = `${u.namespace}/${u.name}`;
    if (u.type === 'golang' && u.namespace) name = `${u.namespace}/${u.name}`;
    if (u.type === 'maven' && u.namespace) name = `${u.namespace}:${u.name}`;
    if (u.type === 'pypi') name = pep503(name);
    return { type: u.type, package: { ...base, arch: '', name, version, packageDb: `${DB_PREFIX_BY_PURL_TYPE[u.type]}:${where}` }, repository };
  }
  const db = OS_PACKAGE_DB[u.type];
  if (!db) return undefined;
  let v = version;
  if (u.type === 'rpm' && q.epoch && !/^\d+:/.test(v)) v = `${q.epoch}:${v}`;
  const pkg: Package = { ...base, name: u.name, version: v, packageDb: db };
  if (q.upstream) {
    const at = q.upstream.indexOf('@');
    pkg.source = at > 0 ? { name: q.upstream.slice(0, at), version: q.upstream.slice(at + 1) } : { name: q.upstream, version: v };
  }
  return { type: u.type, package: pkg, ...(u.namespace ? { namespace: u.namespace } : {}), ...(q.distro ? { distro: q.distro } : {}) };
}
