// Python's core metadata (https://packaging.python.org/en/latest/specifications/core-metadata/): the METADATA file
// of a .dist-info folder and the PKG-INFO of an .egg-info (folder or single file) are RFC 822 headers followed by
// an optional body. Only the header block is read; the name is normalised as PEP 503 says, the version kept as written.

export interface CoreMetadata {
  name: string;
  version: string;
}

/** PEP 503: lowercase, runs of "-", "_" and "." become one "-". */
export function normalizePythonName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** The first Name and Version headers; undefined when either is missing. */
export function parseCoreMetadata(text: string): CoreMetadata | undefined {
  let name: string | undefined;
  let version: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') break; // end of the headers: the long description follows
    if (line[0] === ' ' || line[0] === '\t') continue; // continuation of a multi-line header
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    if (key === 'name' && name === undefined) name = line.slice(colon + 1).trim();
    else if (key === 'version' && version === undefined) version = line.slice(colon + 1).trim();
    if (name !== undefined && version !== undefined) break;
  }
  if (!name || !version) return undefined;
  return { name, version };
}
