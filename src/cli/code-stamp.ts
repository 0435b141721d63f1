import { readdirSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';

// Which code made a stored scan result (stored-scan.ts). A result is reused only by the same code: after an upgrade,
// a `git pull`, or an edit of a matcher, a version rule or a report writer in a checkout, the scan is computed
// again. The stamp is the size and modification time of every source file, of every source folder (a file added,
// removed or renamed changes its folder's) and of package.json and the installed dependencies' lock (npm rewrites
// node_modules/.package-lock.json on every install); not the files' contents, which would take reading 5 MB.
//
// Listing the tree costs more than a warm scan can spare (readdir of ~60 folders, 10-25 ms in a fresh process), so
// the list is made when a result is stored and kept with it; checking it is one stat per entry (~3 ms for ~350).

const ROOT = join(import.meta.dirname, '..', '..');

/** The entries the stamp covers, relative to the package root. */
export function codeFiles(): string[] {
  const out = ['package.json', join('node_modules', '.package-lock.json')];
  const walk = (rel: string) => {
    out.push(rel);
    for (const e of readdirSync(join(ROOT, rel), { withFileTypes: true })) {
      const child = join(rel, e.name);
      if (e.isDirectory()) walk(child);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(child);
    }
  };
  walk('src');
  return out;
}

/**
 * The stamp of these entries as they are now: each one's size and modification time, in order ("-" for an entry
 * that is gone). Written out, not hashed: hashing would load node:crypto, which a warm scan otherwise does without.
 */
export function codeStamp(files: readonly string[]): string {
  let out = '';
  // Concatenated, not path.join()ed: the entries are clean relative paths, and join's normalizing was a third of the cost.
  const root = ROOT + sep;
  for (const f of files) {
    const s = statSync(root + f, { throwIfNoEntry: false });
    out += s ? `${s.size}:${s.mtimeMs} ` : '- ';
  }
  return out;
}
