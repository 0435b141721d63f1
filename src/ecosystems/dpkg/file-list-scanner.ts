import type { Scanner } from '../../indexer/scanner.ts';
import { textLines } from '../../model/text-lines.ts';
import type { FileOwnersFinding } from '../../model/layer-report.ts';
import { normalizeLayerPath } from '../../indexer/layer-path.ts';

// Which dpkg package owns which file, for language packages shipped by Debian (python3-jinja2's egg-info,
// ruby-rack's gemspec, node-* packages' package.json): their vulnerabilities come from the Debian feed.
//   var/lib/dpkg/info/NAME[:ARCH].list   one absolute path per line (dirs too), written by dpkg on install
//   var/lib/dpkg/status.d/NAME.md5sums   distroless images (no info/ folder): "MD5  relative/path" per file
// The walker keeps only the paths language scanners declare ownable, so the layer report stays small.

const INFO = 'var/lib/dpkg/info/';
const STATUS_D = 'var/lib/dpkg/status.d/';

/** Debian's merged /usr: a package may list /lib/x while the file sits at usr/lib/x in the image. */
const MERGED = /^(bin|sbin|lib|lib32|lib64|libx32)\//;

const UNCLEAN = /\/\/|\/\.\.?(\/|$)|\/$/;

function withAliases(path: string): string[] {
  return MERGED.test(path) ? [path, `usr/${path}`] : [path];
}

export function listedFiles(text: string, form: 'list' | 'md5sums'): string[] {
  const out: string[] = [];
  let previous = '';
  for (const raw of textLines(text)) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || line === '/.') continue;
    // md5sums: 32 hex digits, two spaces, the path relative to the root.
    const listed = form === 'md5sums' ? line.replace(/^[0-9a-f]{32} [ *]/, '') : line;
    // dpkg writes clean absolute paths; anything else goes through the full normalisation.
    const path = listed.startsWith('/') && !UNCLEAN.test(listed) ? listed.slice(1) : normalizeLayerPath(listed);
    // A .list names each folder before what it holds (the package's tar order): a line followed by one below it
    // is a folder, never a metadata file, and folders are most of what the lists repeat.
    if (previous !== '' && path.startsWith(previous + '/')) out.length -= MERGED.test(previous) ? 2 : 1;
    out.push(...withAliases(path));
    previous = path;
  }
  return out;
}

export const dpkgFileListScanner: Scanner = {
  name: 'dpkg-files',
  version: '2',
  kind: 'package',
  wants: ({ path }) =>
    (path.startsWith(INFO) && path.endsWith('.list') && !path.slice(INFO.length).includes('/')) ||
    (path.startsWith(STATUS_D) && path.endsWith('.md5sums') && !path.slice(STATUS_D.length).includes('/')),
  scan(files) {
    const fileOwners: FileOwnersFinding[] = files.map((f) => {
      const text = f.data.toString('utf8');
      if (f.path.startsWith(INFO)) {
        const name = f.path.slice(INFO.length, -'.list'.length).replace(/:[^:]*$/, '');
        return { path: f.path, owners: [{ owner: { name, version: '', packageDb: 'var/lib/dpkg/status' }, files: listedFiles(text, 'list') }] };
      }
      const entry = f.path.slice(0, -'.md5sums'.length);
      const name = entry.slice(STATUS_D.length);
      return { path: f.path, owners: [{ owner: { name, version: '', packageDb: entry }, files: listedFiles(text, 'md5sums') }] };
    });
    return { fileOwners };
  },
};
