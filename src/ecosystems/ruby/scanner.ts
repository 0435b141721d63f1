import type { Scanner } from '../../indexer/scanner.ts';
import type { PackageDbFinding } from '../../model/layer-report.ts';
import type { Package } from '../../model/package.ts';
import { parseGemfileLock, parseGemspec } from './gemspec.ts';
import { rubygemsRepository } from './repository.ts';

// Ruby gems:
// - installed, in images and trees: .../specifications/NAME-VERSION.gemspec and .../specifications/default/*.gemspec
//   (Ruby's default gems), wherever the gem home is (usr/lib/ruby/gems/3.1.0, var/lib/gems, Debian's
//   usr/share/rubygems-integration/all, vendor/bundle). The same gem in two gem homes is two packages: both are on disk.
// - locked, in dir: trees only: Gemfile.lock. One whose project has its gems installed in the same tree
//   (vendor/bundle, `bundle install --path`/`--deployment`) is not read: the installed gems are reported instead, and
//   nothing is counted twice.

const GEMSPEC = /(?:^|\/)specifications\/(?:default\/)?[^/]+\.gemspec$/;

export function isInstalledGemspec(path: string): boolean {
  return GEMSPEC.test(path);
}

const isGemfileLock = (path: string) => path === 'Gemfile.lock' || path.endsWith('/Gemfile.lock');

function pkg(name: string, version: string, packageDb: string): Package {
  return { name, version, kind: 'binary', arch: '', module: '', cpe: '', packageDb, repositoryHint: '' };
}

export const rubyScanner: Scanner = {
  name: 'ruby',
  version: '2',
  kind: 'package',
  maxFileSize: 16 * 1024 * 1024,
  wants: ({ path, origin }) => isInstalledGemspec(path) || (origin === 'directory' && isGemfileLock(path)),
  ownable: isInstalledGemspec,
  scan(files) {
    const packageDbs: PackageDbFinding[] = [];
    const errors: string[] = [];
    const vendored = new Set<string>();
    for (const f of files) {
      const at = f.path.indexOf('vendor/bundle/');
      if (at >= 0 && isInstalledGemspec(f.path) && (at === 0 || f.path[at - 1] === '/')) vendored.add(f.path.slice(0, at));
    }
    for (const f of files) {
      const text = f.data.toString('utf8');
      if (!isInstalledGemspec(f.path) && vendored.has(f.path.slice(0, f.path.length - 'Gemfile.lock'.length))) continue;
      if (isInstalledGemspec(f.path)) {
        const spec = parseGemspec(text);
        if (!spec) errors.push(`${f.path}: no name and version assignment found; not read`);
        else packageDbs.push({ path: f.path, packages: [pkg(spec.name, spec.version, `rubygems:${f.path}`)], repository: rubygemsRepository });
        continue;
      }
      const gems = new Map<string, Package>();
      for (const g of parseGemfileLock(text)) gems.set(`${g.name}@${g.version}`, pkg(g.name, g.version, `rubygems:${f.path}`));
      if (gems.size === 0 && !/^GEM$/m.test(text)) errors.push(`${f.path}: no GEM section; not a Gemfile.lock`);
      packageDbs.push({ path: f.path, packages: [...gems.values()], repository: rubygemsRepository });
    }
    return { packageDbs, errors };
  },
};
