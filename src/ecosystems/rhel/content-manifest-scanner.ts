import type { Scanner } from '../../indexer/scanner.ts';
import type { Repository } from '../../model/repository.ts';
import { RHEL_CPE_REPOSITORY_KEY } from './csaf-vex.ts';
import { RPMDB_DIRS } from '../rpm/scanner.ts';
import type { RepositoryCpeMapping } from './repository-to-cpe.ts';

// Red Hat container builds (OSBS/Konflux) record the content sets (rpm repositories) they installed from in
// root/buildinfo/content_manifests/<component>.json: {"content_sets": ["rhel-8-for-x86_64-appstream-rpms", …]}
// (CoreOS-based images: usr/share/buildinfo/*.json). As claircore does, every rpm package of the image is then
// associated with these repositories: a content set becomes a repository named by itself, and, through Red Hat's
// repository-to-cpe mapping, one repository per CPE (key "rhel-cpe-repository") that the VEX matcher compares.

export const CONTENT_SET_REPOSITORY_KEY = 'rhel-content-set';
const MANIFEST_DIRS = ['root/buildinfo/content_manifests/', 'usr/share/buildinfo/'];

export function repositoriesFromContentManifest(text: string, path: string, mapping: RepositoryCpeMapping | undefined): Repository[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: content manifest is not JSON (${(e as Error).message})`);
  }
  const sets = (doc as { content_sets?: unknown } | null)?.content_sets;
  if (sets === undefined) return [];
  if (!Array.isArray(sets) || !sets.every((s) => typeof s === 'string')) throw new Error(`${path}: content_sets is not a list of names`);
  const out: Repository[] = [];
  const cpes = new Set<string>();
  for (const set of sets as string[]) {
    out.push({ name: set, key: CONTENT_SET_REPOSITORY_KEY, uri: '', cpe: '' });
    for (const c of mapping?.cpes.get(set) ?? []) cpes.add(c);
  }
  for (const cpe of [...cpes].sort()) out.push({ name: cpe, key: RHEL_CPE_REPOSITORY_KEY, uri: '', cpe });
  return out;
}

/** The scanner, with the repository-to-CPE mapping it applies (none: content sets carry no CPE). */
export const contentManifestScanner = (mapping?: RepositoryCpeMapping): Scanner => ({
  name: 'rhel-content-manifest',
  // The mapping is an input of the result: a new mapping file must not reuse layers cached with the old one.
  version: mapping ? `1+${mapping.digest.slice(0, 12)}` : '1',
  kind: 'repository',
  maxFileSize: 4 * 1024 * 1024,
  wants: ({ path }) => path.endsWith('.json') && MANIFEST_DIRS.some((d) => path.startsWith(d) && !path.slice(d.length).includes('/')),
  scan(files) {
    const repositories = [];
    const errors: string[] = [];
    for (const f of files) {
      try {
        const repos = repositoriesFromContentManifest(f.data.toString('utf8'), f.path, mapping);
        repositories.push({ path: f.path, repositories: repos, packageDbPrefixes: [...RPMDB_DIRS] });
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    return { repositories, errors };
  },
});
