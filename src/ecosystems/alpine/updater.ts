import { withIdleTimeout } from '../../model/idle-timeout-fetch.ts';
import { Readable } from 'node:stream';
import { lazyRequire } from '../../model/lazy-require.ts';
import { ClairError } from '../../model/errors.ts';
import type { Vulnerability } from '../../model/vulnerability.ts';
import { openFeedArchive, readFeedDocuments } from '../../updater/feed-archive.ts';
import { isHttpLocation, type FeedOpenOptions, type FeedOpenResult } from '../../updater/feed-location.ts';
import type { Updater } from '../../updater/updater.ts';
import { parseJsonDocument, secdbHeader, secdbRecords } from '../apk/secdb.ts';
import { ALPINE_SECDB_URL, apkSchemeForRelease, SECDB_BRANCHES, SECDB_REPOSITORIES, secdbBranch } from './releases.ts';

const tar = lazyRequire<typeof import('tar-stream')>('tar-stream');

// Alpine's secdb: https://secdb.alpinelinux.org/<branch>/<repository>.json. A location is the site (or a mirror of
// it: every branch's main and community documents are fetched), a folder laid out like the site (v3.20/main.json,
// …), a .tar.gz or .zip of such a folder, or one document. Each document names its branch in "distroversion";
// documents without it take the branch from their folder name.

const wanted = (path: string): boolean => path.endsWith('.json');

function branchOf(path: string, distroversion: string): string | undefined {
  return secdbBranch(distroversion) ?? /(?:^|\/)(v\d+\.\d+|edge)\/[^/]+$/.exec(path)?.[1]?.replace(/^v/, '');
}

function alpineDist(branch: string): Vulnerability['dist'] {
  return {
    did: 'alpine',
    versionId: branch,
    versionCodeName: '',
    cpe: '',
    name: 'Alpine Linux',
    version: '',
    prettyName: branch === 'edge' ? 'Alpine Linux edge' : `Alpine Linux v${branch}`,
    arch: '',
  };
}

export async function* alpineRecords(feed: Readable, location: string): AsyncGenerator<Vulnerability> {
  let documents = 0;
  for await (const doc of readFeedDocuments(feed, location, wanted)) {
    const where = doc.path ? `${location} ${doc.path}` : location;
    const json = parseJsonDocument(doc.data, where);
    const header = secdbHeader(json, where);
    const branch = branchOf(doc.path, header.distroversion);
    if (!branch) {
      throw new ClairError('bad-feed', `${where}: no "distroversion" and no branch folder (v3.20/, edge/) in the path: cannot tell which release it is for`);
    }
    documents++;
    yield* secdbRecords(json, {
      updater: 'alpine',
      dist: alpineDist(branch),
      versionScheme: branch === 'edge' ? 'apk3' : apkSchemeForRelease(branch).id,
      link: (id) => `https://security.alpinelinux.org/vuln/${encodeURIComponent(id)}`,
    }, where);
  }
  if (documents === 0) throw new ClairError('bad-feed', `${location}: no secdb documents (expected <branch>/<repository>.json files)`);
}

/** The branches the site lists (links "v3.20/", "edge/"), or the known list when it lists none. */
async function siteBranches(base: string, opts: FeedOpenOptions): Promise<string[]> {
  try {
    const res = await withIdleTimeout(opts.fetch ?? fetch)(base, { headers: { 'user-agent': 'clair-ts' }, ...(opts.signal ? { signal: opts.signal } : {}) });
    if (res.ok) {
      const html = await res.text();
      const found = [...new Set([...html.matchAll(/href="\.?\/?(v\d+\.\d+|edge)\/?"/g)].map((m) => m[1]!))];
      if (found.length > 0) return found;
    } else {
      await res.body?.cancel();
    }
  } catch (e) {
    if (opts.signal?.aborted) throw e;
  }
  return [...SECDB_BRANCHES];
}

/** The site's documents as one tar stream (sorted paths), fetched one after the other; missing ones are skipped. */
async function openSite(location: string, opts: FeedOpenOptions): Promise<FeedOpenResult> {
  const base = location.endsWith('/') ? location : location + '/';
  const branches = (await siteBranches(base, opts)).sort();
  const pack = tar().pack();
  (async () => {
    for (const branch of branches) {
      for (const repo of SECDB_REPOSITORIES) {
        const url = `${base}${branch}/${repo}.json`;
        let res: Response;
        try {
          res = await withIdleTimeout(opts.fetch ?? fetch)(url, { headers: { 'user-agent': 'clair-ts' }, ...(opts.signal ? { signal: opts.signal } : {}) });
        } catch (e) {
          throw new ClairError('unavailable', `feed ${url}: ${(e as Error).message}`, { cause: e });
        }
        if (res.status === 404) {
          await res.body?.cancel();
          continue;
        }
        if (!res.ok) {
          await res.body?.cancel();
          throw new ClairError('unavailable', `feed ${url}: HTTP ${res.status} ${res.statusText}`);
        }
        const data = Buffer.from(await res.arrayBuffer());
        await new Promise<void>((resolve, reject) =>
          pack.entry({ name: `${branch}/${repo}.json`, mode: 0o644, mtime: new Date(0) }, data, (err) => (err ? reject(err) : resolve())),
        );
      }
    }
    pack.finalize();
  })().catch((e: unknown) => pack.destroy(e instanceof Error ? e : new Error(String(e))));
  return { stream: pack as unknown as Readable };
}

export const alpineUpdater: Updater = {
  name: 'alpine',
  version: '1',
  defaultLocation: ALPINE_SECDB_URL,
  open(location, opts) {
    if (isHttpLocation(location) && !/\.(json|tar\.gz|tgz|tar|zip)(\?|#|$)/i.test(location)) return openSite(location, opts);
    return openFeedArchive(location, { ...opts, wanted });
  },
  parse(feed, opts) {
    return alpineRecords(feed, opts.location);
  },
};
