import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isLocalReference, LOCAL_TRANSPORTS, parseImageReference, type ImageReference } from './image-reference.ts';

describe('parseImageReference', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'clair-ref-'));
    await mkdir(join(root, 'layout'));
    await mkdir(join(root, 'odd:name'));
    await mkdir(join(root, 'both'));
    await mkdir(join(root, 'both:v1'));
    await writeFile(join(root, 'img.tar'), '');
    await writeFile(join(root, 'a:b.tar'), '');
  });
  after(async () => rm(root, { recursive: true, force: true }));

  const cases: { ref: () => string; want: () => ImageReference }[] = [
    { ref: () => `oci:${root}/layout`, want: () => ({ transport: 'oci', path: `${root}/layout` }) },
    { ref: () => `oci:${root}/layout:v1`, want: () => ({ transport: 'oci', path: `${root}/layout`, tag: 'v1' }) },
    // A tag with ':' in it: the split is at the ':' whose left side is a folder.
    { ref: () => `oci:${root}/layout:docker.io/library/alpine:3.20`, want: () => ({ transport: 'oci', path: `${root}/layout`, tag: 'docker.io/library/alpine:3.20' }) },
    // A folder whose name holds ':': no left side is a folder, so the whole text is the path.
    { ref: () => `oci:${root}/odd:name`, want: () => ({ transport: 'oci', path: `${root}/odd:name` }) },
    { ref: () => `oci:${root}/odd:name:v2`, want: () => ({ transport: 'oci', path: `${root}/odd:name`, tag: 'v2' }) },
    // Both readings exist: the tag reading wins (documented).
    { ref: () => `oci:${root}/both:v1`, want: () => ({ transport: 'oci', path: `${root}/both`, tag: 'v1' }) },
    // Nothing exists: the whole text is the path, and opening it will say it does not exist.
    { ref: () => `oci:${root}/missing:v1`, want: () => ({ transport: 'oci', path: `${root}/missing:v1` }) },
    { ref: () => `docker-archive:${root}/img.tar`, want: () => ({ transport: 'docker-archive', path: `${root}/img.tar` }) },
    { ref: () => `docker-archive:${root}/img.tar:alpine:3`, want: () => ({ transport: 'docker-archive', path: `${root}/img.tar`, imageName: 'alpine:3' }) },
    { ref: () => `docker-archive:${root}/img.tar:localhost:5000/app:1`, want: () => ({ transport: 'docker-archive', path: `${root}/img.tar`, imageName: 'localhost:5000/app:1' }) },
    { ref: () => `docker-archive:${root}/a:b.tar:app:1`, want: () => ({ transport: 'docker-archive', path: `${root}/a:b.tar`, imageName: 'app:1' }) },
    { ref: () => `docker-archive:${root}/a:b.tar`, want: () => ({ transport: 'docker-archive', path: `${root}/a:b.tar` }) },
    // A folder is not an archive: not split there.
    { ref: () => `docker-archive:${root}/layout:x`, want: () => ({ transport: 'docker-archive', path: `${root}/layout:x` }) },
  ];
  for (const [i, c] of cases.entries()) {
    it(`case ${i}`, async () => {
      assert.deepEqual(await parseImageReference(c.ref()), c.want());
    });
  }
});

describe('one list of local transports for the parser and the CLI', () => {
  it('every listed transport is local and parses; the usage names every form', async () => {
    for (const { transport, form } of LOCAL_TRANSPORTS) {
      assert.ok(isLocalReference(`${transport}:/x`), transport);
      assert.equal((await parseImageReference(`${transport}:/no/such/path`)).transport, transport);
      await assert.rejects(parseImageReference('nope:/x'), (e: Error) => e.message.includes(form));
    }
  });
  it('registry references are not local; a known but unsupported transport is refused, not pulled', async () => {
    for (const ref of ['debian:bookworm', 'quay.io/org/app@sha256:' + 'a'.repeat(64), 'localhost:5000/app:1']) assert.equal(isLocalReference(ref), false, ref);
    assert.ok(isLocalReference('oci-archive:/x.tar'));
    await assert.rejects(parseImageReference('oci-archive:/x.tar'), /unknown or missing transport prefix/);
  });
});
