import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { ClairError } from '../../model/errors.ts';
import { printable } from '../../model/printable.ts';
import { withIdleTimeout } from '../../model/idle-timeout-fetch.ts';
import { confinedFeedPath, feedPath, fileUnderFeedDir, isHttpLocation, urlUnderFeedBase } from '../../updater/feed-location.ts';

// Where the rhel-vex updater reads from: Red Hat's VEX tree (https://security.access.redhat.com/data/csaf/v2/vex/)
// or a local mirror with the same layout, for air-gapped sites:
//
//   archive_latest.txt          the file name of the newest full archive, e.g. "csaf_vex_2025-06-01.tar.zst"
//   csaf_vex_YYYY-MM-DD.tar.zst zstd-compressed tar of YYYY/cve-YYYY-NNNN.json, every document at that date
//   changes.csv                 "YYYY/cve-….json","2025-06-02T10:11:12+00:00": the time each document last changed
//   deletions.csv               same shape: documents withdrawn, and when (optional)
//   YYYY/cve-YYYY-NNNN.json     the current documents (only those changed since the archive are read)

export interface VexMirror {
  readonly location: string;
  /** A file under the mirror as a byte stream; not-found when it does not exist. */
  open(rel: string): Promise<Readable>;
  /** A small file under the mirror as text; undefined when it does not exist and `optional`. */
  text(rel: string, optional?: boolean): Promise<string | undefined>;
}

export function openVexMirror(location: string, opts: { signal?: AbortSignal; fetch?: typeof fetch } = {}): VexMirror {
  if (isHttpLocation(location)) return httpMirror(location.endsWith('/') ? location : location + '/', opts);
  const dir = feedPath(location);
  return {
    location,
    // Every path is confined to the mirror folder (fileUnderFeedDir): changes.csv is the mirror's data, not ours.
    async open(rel) {
      const path = await fileUnderFeedDir(dir, rel, `rhel-vex ${location}`);
      await statFile(path, `${location}: ${rel}`);
      return createReadStream(path);
    },
    async text(rel, optional = false) {
      let path: string;
      try {
        path = await fileUnderFeedDir(dir, rel, `rhel-vex ${location}`);
      } catch (e) {
        if (optional && e instanceof ClairError && e.code === 'not-found') return undefined;
        throw e;
      }
      await statFile(path, `${location}: ${rel}`);
      try {
        return await readFile(path, 'utf8');
      } catch (e) {
        throw new ClairError('not-found', `${location}: ${rel} cannot be read: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    },
  };
}

async function statFile(path: string, what: string): Promise<void> {
  try {
    if ((await stat(path)).isFile()) return;
  } catch (e) {
    throw new ClairError('not-found', `${what} cannot be read: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  throw new ClairError('not-found', `${what} is not a file`);
}

function httpMirror(base: string, opts: { signal?: AbortSignal; fetch?: typeof fetch }): VexMirror {
  const get = async (rel: string, optional: boolean): Promise<Response | undefined> => {
    // Confined to the mirror's origin and path: an absolute URL in changes.csv does not send us to another host.
    const url = urlUnderFeedBase(base, rel, `rhel-vex ${base}`);
    let res: Response;
    try {
      res = await withIdleTimeout(opts.fetch ?? fetch)(url, { headers: { 'user-agent': 'clair-ts' }, ...(opts.signal ? { signal: opts.signal } : {}) });
    } catch (e) {
      throw new ClairError('unavailable', `rhel-vex ${url}: ${printable((e as Error).message)}`, { cause: e });
    }
    if (res.status === 404 && optional) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new ClairError(res.status === 404 ? 'not-found' : 'unavailable', `rhel-vex ${url}: HTTP ${res.status} ${res.statusText}`);
    }
    return res;
  };
  return {
    location: base,
    async open(rel) {
      const res = (await get(rel, false))!;
      return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    },
    async text(rel, optional = false) {
      const res = await get(rel, optional);
      return res ? await res.text() : undefined;
    },
  };
}

/** Is the location one document or archive (a file), rather than a mirror folder or URL? */
export async function isLocalFile(location: string): Promise<boolean> {
  if (isHttpLocation(location)) return false;
  try {
    return (await stat(feedPath(location))).isFile();
  } catch {
    return false;
  }
}

export interface ChangeEntry {
  path: string;
  /** ISO 8601 as written; compared as Date. */
  time: Date;
}

/** changes.csv / deletions.csv: two columns, path and RFC 3339 time, each optionally double-quoted. */
export function parseChangesCsv(text: string, source: string): ChangeEntry[] {
  const out: ChangeEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const m = /^"?([^",]+)"?\s*,\s*"?([^",]+)"?$/.exec(line);
    const time = m ? new Date(m[2]!) : undefined;
    if (!m || !time || Number.isNaN(time.getTime())) throw new ClairError('bad-feed', `${source} line ${i + 1}: expected "path","time", got ${JSON.stringify(printable(line.slice(0, 80)))}`);
    // Confined here already, so a hostile line fails the run before anything is read (./ prefixes are accepted).
    out.push({ path: confinedFeedPath(m[1]!.replace(/^\.\//, ''), `${source} line ${i + 1}`), time });
  });
  return out;
}

/** "2023/cve-2023-0030.json" → "CVE-2023-0030": the tracking id of the document at that path. */
export function documentNameOfPath(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1).replace(/\.json$/i, '');
  return base.toUpperCase();
}
