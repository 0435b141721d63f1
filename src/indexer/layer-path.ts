// The one form of a path inside a layer that scanners see (LayerFile.path) and compare against: part of the scanner
// contract, so scanners that read paths out of files (dpkg's file lists) normalise them the same way.

/** Anything the split below would change: empty, "." or ".." segments, a leading or trailing slash. */
const UNCLEAN = /\/\/|(^|\/)\.\.?(\/|$)|^\/|\/$/;

/** "./etc/os-release", "/etc/os-release/" and "etc//os-release" all become "etc/os-release". */
export function normalizeLayerPath(p: string): string {
  // Called for every entry of every layer: tar writes "./usr/lib/x" or "usr/lib/x", already clean after the "./".
  const q = p.startsWith('./') ? p.slice(2) : p;
  if (!UNCLEAN.test(q)) return q;
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return parts.join('/');
}
