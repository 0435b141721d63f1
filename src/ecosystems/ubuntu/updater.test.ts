import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { isClairError } from '../../model/errors.ts';
import { SqliteStore } from '../../store/sqlite/sqlite-store.ts';
import { runUpdater } from '../../updater/run-updater.ts';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { makeTar } from '../../../test/support/tar-layer.ts';
import { makeZip } from '../../../test/support/zip-archive.ts';
import { UBUNTU_OSV_URL, ubuntuUpdater } from './updater.ts';

// The default location is GitHub's .tar.gz of canonical/ubuntu-security-notices: here a fake server answers with
// the same layout (a top folder, osv/cve and osv/usn), an ETag, and 304 when asked again with it.

test('ubuntu feed from its URL: tar.gz streamed, USN files skipped, ETag honoured; zip too', async (t) => {
  const cve = requireSharedData(t, 'feeds/ubuntu/vunnel/osv/cve/2021/UBUNTU-CVE-2021-3782.json');
  const usn = requireSharedData(t, 'feeds/ubuntu/vunnel/osv/usn/USN-5614-1.json');
  if (!cve || !usn) return;
  const files = [
    { path: 'ubuntu-security-notices-main/osv/cve/2021/UBUNTU-CVE-2021-3782.json', content: readFileSync(cve) },
    { path: 'ubuntu-security-notices-main/osv/usn/USN-5614-1.json', content: readFileSync(usn) },
    { path: 'ubuntu-security-notices-main/README.md', content: 'readme' },
  ];
  const tgz = gzipSync(await makeTar(files));
  const requests: (string | null)[] = [];
  const fakeFetch = (async (_url: string, init?: RequestInit) => {
    const inm = new Headers(init?.headers).get('if-none-match');
    requests.push(inm);
    if (inm === '"v1"') return new Response(null, { status: 304 });
    return new Response(tgz, { headers: { etag: '"v1"' } });
  }) as unknown as typeof fetch;
  const store = SqliteStore.open(':memory:');
  try {
    const first = await runUpdater(store, ubuntuUpdater, UBUNTU_OSV_URL, { fetch: fakeFetch });
    assert.equal(first.records, 4, 'one record per release of the CVE record; the USN adds none');
    const second = await runUpdater(store, ubuntuUpdater, UBUNTU_OSV_URL, { fetch: fakeFetch });
    assert.equal(second.unchanged, true);
    assert.deepEqual(requests, [null, '"v1"']);

    const zip = makeZip(files);
    const zipFetch = (async () => new Response(zip)) as unknown as typeof fetch;
    const fromZip = await runUpdater(store, ubuntuUpdater, 'https://mirror.example/ubuntu-security-notices.zip', { fetch: zipFetch });
    assert.equal(fromZip.records, 4);

    const empty = gzipSync(await makeTar([files[1]!, files[2]!]));
    const emptyFetch = (async () => new Response(empty)) as unknown as typeof fetch;
    await assert.rejects(runUpdater(store, ubuntuUpdater, 'https://mirror.example/x.tar.gz', { fetch: emptyFetch }), (e: unknown) => isClairError(e) && e.code === 'bad-feed' && /no UBUNTU-CVE/.test(e.message));
  } finally {
    await store.close();
  }
});
