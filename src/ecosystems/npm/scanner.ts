import type { Scanner } from '../../indexer/scanner.ts';
import { errorMessage } from '../../model/errors.ts';
import type { PackageDbFinding } from '../../model/layer-report.ts';
import type { Package } from '../../model/package.ts';
import { NPM_LOCKFILES, parseLockfile } from './lockfiles.ts';
import { npmRepository } from './repository.ts';

// npm packages:
// - installed, in images and trees: every node_modules/NAME/package.json and node_modules/@SCOPE/NAME/package.json,
//   nested node_modules too (pnpm's node_modules/.pnpm/x@1/node_modules/x among them; its links are not followed).
//   The project's own package.json is not under node_modules and is not a package. Each package.json is its own
//   package database, so a later layer deleting the package removes it; packageDb is "npm:" and that path.
// - locked, in dir: trees only: package-lock.json, npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml (lockfiles.ts).
//   A lockfile whose folder has an installed node_modules in the same tree is not read: the installed packages are
//   what runs, and reading both would count each package twice.

const INSTALLED = /(?:^|\/)node_modules\/(?:@[^/]+\/)?[^/@.][^/]*\/package\.json$/;

export function isInstalledPackageJson(path: string): boolean {
  return INSTALLED.test(path);
}

function isLockfile(path: string): boolean {
  const slash = path.lastIndexOf('/');
  return NPM_LOCKFILES.has(path.slice(slash + 1)) && !path.includes('node_modules/');
}

function pkg(name: string, version: string, packageDb: string): Package {
  return { name, version, kind: 'binary', arch: '', module: '', cpe: '', packageDb, repositoryHint: '' };
}

export const npmScanner: Scanner = {
  name: 'npm',
  version: '1',
  kind: 'package',
  maxFileSize: 64 * 1024 * 1024,
  wants: ({ path, origin }) => isInstalledPackageJson(path) || (origin === 'directory' && isLockfile(path)),
  ownable: isInstalledPackageJson,
  scan(files) {
    const packageDbs: PackageDbFinding[] = [];
    const errors: string[] = [];
    const installedRoots = new Set<string>();
    for (const f of files) {
      if (!isInstalledPackageJson(f.path)) continue;
      const at = f.path.indexOf('node_modules/');
      installedRoots.add(f.path.slice(0, at));
      let doc: { name?: unknown; version?: unknown };
      try {
        doc = JSON.parse(f.data.toString('utf8')) as typeof doc;
      } catch (e) {
        errors.push(`${f.path}: not JSON (${errorMessage(e)}); not read`);
        continue;
      }
      if (typeof doc !== 'object' || doc === null || typeof doc.name !== 'string' || typeof doc.version !== 'string' || doc.name === '' || doc.version === '') {
        errors.push(`${f.path}: no "name" and "version"; not read`);
        continue;
      }
      packageDbs.push({ path: f.path, packages: [pkg(doc.name, doc.version, `npm:${f.path}`)], repository: npmRepository });
    }
    for (const f of files) {
      if (isInstalledPackageJson(f.path)) continue;
      const dir = f.path.slice(0, f.path.lastIndexOf('/') + 1);
      if (installedRoots.has(dir)) continue;
      try {
        const seen = new Map<string, Package>();
        for (const p of parseLockfile(f.path, f.data.toString('utf8'))) seen.set(`${p.name}@${p.version}`, pkg(p.name, p.version, `npm:${f.path}`));
        packageDbs.push({ path: f.path, packages: [...seen.values()], repository: npmRepository });
      } catch (e) {
        errors.push(errorMessage(e));
      }
    }
    return { packageDbs, errors };
  },
};
