import type { Scanner } from '../../indexer/scanner.ts';
import type { PackageDbFinding } from '../../model/layer-report.ts';
import type { Package } from '../../model/package.ts';
import { normalizePythonName, parseCoreMetadata } from './metadata.ts';
import { pypiRepository } from './repository.ts';

// Installed Python distributions anywhere in a layer (site-packages, dist-packages, virtualenvs, /usr/local, /opt):
//   NAME-VERSION.dist-info/METADATA   wheels, pip
//   NAME-VERSION.egg-info/PKG-INFO    setuptools / distutils installs (Debian's python3-* often)
//   NAME-VERSION.egg-info             the same as a single file (older distutils)
// Each is its own package database keyed by the metadata file, so removing or upgrading a distribution in a later
// layer (its folder whited out) removes it; packageDb is "python:" and the .dist-info / .egg-info path.

export function isPythonMetadata(path: string): boolean {
  return path.endsWith('.dist-info/METADATA') || path.endsWith('.egg-info/PKG-INFO') || path.endsWith('.egg-info');
}

export const pythonScanner: Scanner = {
  name: 'python',
  version: '1',
  kind: 'package',
  // METADATA carries the long description (README): a few MiB at worst.
  maxFileSize: 16 * 1024 * 1024,
  wants: ({ path }) => isPythonMetadata(path),
  ownable: isPythonMetadata,
  scan(files) {
    const packageDbs: PackageDbFinding[] = [];
    const errors: string[] = [];
    for (const f of files) {
      const meta = parseCoreMetadata(f.data.toString('utf8'));
      if (!meta) {
        errors.push(`${f.path}: no Name and Version headers; not a Python core metadata file`);
        continue;
      }
      const dir = f.path.endsWith('.egg-info') ? f.path : f.path.slice(0, f.path.lastIndexOf('/'));
      const pkg: Package = {
        name: normalizePythonName(meta.name), version: meta.version, kind: 'binary', arch: '', module: '', cpe: '',
        packageDb: `python:${dir}`, repositoryHint: '',
      };
      packageDbs.push({ path: f.path, packages: [pkg], repository: pypiRepository });
    }
    return { packageDbs, errors };
  },
};
