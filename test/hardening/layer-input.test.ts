import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { makeTar } from '../support/tar-layer.ts';
import { walkHardLinkTargets, walkLayer } from '../../src/indexer/layer-walker.ts';
import { coalesce } from '../../src/indexer/coalesce.ts';
import type { LayerReport } from '../../src/model/layer-report.ts';
import type { Scanner } from '../../src/indexer/scanner.ts';
import { dpkgStatusScanner } from '../../src/ecosystems/dpkg/scanner.ts';
import { installedPackages, StatusFileReader } from '../../src/ecosystems/dpkg/status-file.ts';
import type { Package } from '../../src/model/package.ts';
import { renderIndexTable, table } from '../../src/cli/render-table.ts';
import { printable } from '../../src/model/printable.ts';
import { apkPackages } from '../../src/ecosystems/apk/installed-db.ts';
import { listedFiles } from '../../src/ecosystems/dpkg/file-list-scanner.ts';

// Issue #18, items 1, 2, 3, 5, 6: hostile layer content. Inputs are generated here, never committed.

/** A tar whose entries' bodies are produced chunk by chunk (nothing of the size of the file is held here). */
function streamedTar(entries: { path: string; size: number; chunk: (i: number) => Buffer | undefined }[]): Readable {
  const pack = tar.pack();
  (async () => {
    for (const e of entries) {
      await new Promise<void>((resolve, reject) => {
        const w = pack.entry({ name: e.path, size: e.size, mode: 0o644, mtime: new Date(0) }, (err) => (err ? reject(err) : resolve())) as unknown as NodeJS.WritableStream;
        const pump = () => {
          for (let i = (w as unknown as { _i?: number })._i ?? 0; ; i++) {
            const c = e.chunk(i);
            if (!c) {
              w.end();
              return;
            }
            if (!w.write(c)) {
              (w as unknown as { _i: number })._i = i + 1;
              w.once('drain', pump);
              return;
            }
          }
        };
        pump();
      });
    }
    pack.finalize();
  })().catch((e) => pack.destroy(e));
  return pack as unknown as Readable;
}

function repeated(total: number, block: Buffer): (i: number) => Buffer | undefined {
  const n = Math.ceil(total / block.length);
  return (i) => (i < n - 1 ? block : i === n - 1 ? block.subarray(0, total - block.length * (n - 1)) : undefined);
}

test('#18.1 a 130 MiB dpkg status of newlines streams through: no crash, the stanzas around it read', async () => {
  const size = 130 * 1024 * 1024;
  const head = Buffer.from('Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2\nArchitecture: amd64\n');
  const newlines = Buffer.alloc(1024 * 1024, 10);
  const tail = Buffer.from('Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13-1\n');
  const body = repeated(size, newlines);
  const n = Math.ceil(size / newlines.length);
  const layer = streamedTar([{
    path: 'var/lib/dpkg/status', size: head.length + size + tail.length,
    chunk: (i) => (i === 0 ? head : i <= n ? body(i - 1) : i === n + 1 ? tail : undefined),
  }]);
  const r = await walkLayer([layer], 'sha256:big', [dpkgStatusScanner]);
  assert.deepEqual(r.errors, []);
  const dbs = r.findings.flatMap((f) => f.packageDbs ?? []);
  assert.deepEqual(dbs.flatMap((d) => d.packages.map((p) => p.name)), ['bash', 'zlib1g']);
});

test('#18.1 the status reader gives the same packages however the bytes are split', () => {
  const text = 'Package: a\nStatus: install ok installed\nVersion: 1.0\nDescription: x\n long\n\n\r\nPackage: b\r\nStatus: install ok installed\r\nVersion: 2.0\r\n';
  const whole = installedPackages(text, 'var/lib/dpkg/status', true).map((p) => `${p.name} ${p.version}`);
  assert.deepEqual(whole, ['a 1.0', 'b 2.0']);
  const bytes = Buffer.from(text);
  for (let cut = 1; cut < bytes.length; cut++) {
    const r = new StatusFileReader('var/lib/dpkg/status', true);
    r.write(bytes.subarray(0, cut));
    r.write(bytes.subarray(cut));
    assert.deepEqual(r.end(), []);
    assert.deepEqual(r.packages.map((p) => `${p.name} ${p.version}`), whole, `split at ${cut}`);
  }
});

test('#18.1 a status line over the line limit is refused with an error, without holding it', () => {
  const r = new StatusFileReader('var/lib/dpkg/status', true);
  r.write(Buffer.from('Package: a\nStatus: install ok installed\nVersion: 1\n\nDescription: '));
  for (let i = 0; i < 3; i++) r.write(Buffer.alloc(512 * 1024, 0x61));
  const errors = r.end();
  assert.equal(r.packages.length, 1);
  assert.match(errors[0] ?? '', /not a valid dpkg status file: line 5 is over \d+ bytes/);
});

test('#18.2 buffering scanners are bounded per file and per layer, with a clear error; streaming ones are not', async () => {
  const seen: string[] = [];
  const buffering: Scanner = {
    name: 'rpm-like', version: '1', kind: 'package', maxFileSize: 3000,
    wants: ({ path }) => path.startsWith('db/'),
    scan(files) {
      for (const f of files) seen.push(`${f.path}:${f.data.length}`);
      return {};
    },
  };
  const bytes = await makeTar([
    { path: 'db/a', content: Buffer.alloc(2000, 1) },
    { path: 'db/b', content: Buffer.alloc(2000, 2) },
    { path: 'db/huge', content: Buffer.alloc(5000, 3) },
    { path: 'db/c', content: Buffer.alloc(500, 4) },
  ]);
  const r = await walkLayer([Readable.from([bytes])], 'sha256:x', [buffering], { maxLayerBuffered: 3000 });
  assert.deepEqual(seen, ['db/a:2000', 'db/c:500']);
  assert.equal(r.errors.length, 2);
  assert.match(r.errors[0]!, /^rpm-like: db\/b is 2000 bytes and the layer's files already take 2000, over the 3000 byte limit for one layer; not read$/);
  assert.match(r.errors[1]!, /^rpm-like: db\/huge is 5000 bytes, over the 3000 byte limit for one file; not read$/);
});

test('#18.2 four large status.d files stream: the walker holds none of them', async () => {
  const size = 16 * 1024 * 1024;
  const stanza = Buffer.from(`Package: p\nVersion: 1.0\nArchitecture: all\nDescription: d\n${' 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n'.repeat(60)}\n`);
  const block = Buffer.concat(Array.from({ length: 16 }, () => stanza));
  const entries = [0, 1, 2, 3].map((i) => ({ path: `var/lib/dpkg/status.d/p${i}`, size, chunk: repeated(size, block) }));
  const before = process.memoryUsage().arrayBuffers;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 5);
  try {
    const r = await walkLayer([streamedTar(entries)], 'sha256:x', [dpkgStatusScanner], { maxLayerBuffered: 1024 });
    const dbs = r.findings.flatMap((f) => f.packageDbs ?? []);
    assert.equal(dbs.length, 4);
    // Each file ends mid-stanza (the size is not a multiple of the stanza): the last partial stanza has no Version.
    for (const d of dbs) assert.ok(d.packages.length > 3000 && d.packages.every((p) => p.name === 'p'));
  } finally {
    clearInterval(timer);
  }
  // 160 MiB of files went by; the buffers held at any time stayed far below one file.
  assert.ok(peak - before < size / 2, `buffers grew by ${peak - before} bytes`);
});

test('#18.5 a hard-linked var/lib/dpkg/status in an upper layer is read from its target', async () => {
  const status = 'Package: curl\nStatus: install ok installed\nVersion: 7.88.1-10\nArchitecture: amd64\n';
  const bytes = await makeTar([
    { path: 'tmp/status.new', content: status },
    { path: 'var/lib/dpkg/status', type: 'link', linkname: 'tmp/status.new' },
  ]);
  const first = await walkLayer([Readable.from([bytes])], 'sha256:l', [dpkgStatusScanner]);
  assert.deepEqual(first.hardLinks, [{ path: 'var/lib/dpkg/status', target: 'tmp/status.new', mode: 0o644 }]);
  const second = await walkHardLinkTargets([Readable.from([bytes])], 'sha256:l', [dpkgStatusScanner], first.hardLinks);
  assert.deepEqual(second.errors, []);
  const dbs = second.findings.flatMap((f) => f.packageDbs ?? []);
  assert.deepEqual(dbs.map((d) => [d.path, d.packages.map((p) => p.name)]), [['var/lib/dpkg/status', ['curl']]]);

  const dangling = await makeTar([{ path: 'var/lib/dpkg/status', type: 'link', linkname: 'nowhere' }]);
  const d1 = await walkLayer([Readable.from([dangling])], 'sha256:d', [dpkgStatusScanner]);
  const d2 = await walkHardLinkTargets([Readable.from([dangling])], 'sha256:d', [dpkgStatusScanner], d1.hardLinks);
  assert.match(d2.errors[0] ?? '', /var\/lib\/dpkg\/status is a hard link to nowhere, which the layer does not hold as a file/);
});

test('#18.5 random bytes as a status file are an error, not 0 packages silently', async () => {
  let seed = 18;
  const random = Buffer.alloc(64 * 1024);
  for (let i = 0; i < random.length; i++) random[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  const bytes = await makeTar([{ path: 'var/lib/dpkg/status', content: random }]);
  const r = await walkLayer([Readable.from([bytes])], 'sha256:r', [dpkgStatusScanner]);
  const errors = r.findings.flatMap((f) => f.errors ?? []);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /^var\/lib\/dpkg\/status is not a valid dpkg status file: line \d+/);
  assert.doesNotMatch(errors[0]!, /[\u0000-\u001f\u007f-\u009f]/, 'the error holds no raw control bytes');
});

const pkg = (name: string, version: string, db: string): Package => ({
  name, version, kind: 'binary', arch: 'amd64', module: '', cpe: '', packageDb: db, repositoryHint: '', source: { name, version },
});

test('#18.3 coalescing 130k packages (and 130k status.d databases under 50k whiteouts) does not overflow the stack', () => {
  const many: Package[] = [];
  for (let i = 0; i < 130_000; i++) many.push(pkg(`p${i}`, '1.0', 'var/lib/dpkg/status'));
  const base: LayerReport = {
    digest: 'sha256:' + '1'.repeat(64), scannerSet: 's', packageDbs: [{ path: 'var/lib/dpkg/status', packages: many }],
    distributions: [], repositories: [], whiteouts: [], opaqueDirs: [], errors: [], size: 0,
  };
  const dbs = Array.from({ length: 130_000 }, (_, i) => ({ path: `var/lib/dpkg/status.d/p${i}`, packages: [pkg(`d${i}`, '1', `var/lib/dpkg/status.d/p${i}`)] }));
  const l2: LayerReport = { ...base, digest: 'sha256:' + '2'.repeat(64), packageDbs: dbs };
  const l3: LayerReport = {
    ...base, digest: 'sha256:' + '3'.repeat(64), packageDbs: [],
    whiteouts: Array.from({ length: 50_000 }, (_, i) => `var/lib/dpkg/status.d/p${i * 2}`),
  };
  const r = coalesce('sha256:m', [base, l2, l3]);
  assert.equal(Object.keys(r.packages).length, 130_000 + 80_000);
  const text = renderIndexTable(r);
  assert.equal(text.split("\n").length, 210_000 + 5);
});

test('#18.6 image bytes reach the terminal escaped: table cells, warnings, errors', () => {
  assert.equal(printable('a\u001b[31mred\u0007\u009b\u202e\tb\n'), 'a\\x1b[31mred\\x07\\x9b\\u202e\\tb\\n');
  const t = table(['NAME', 'V'], [['evil\u001b]52;c;AAAA\u0007', '1\r2']]);
  assert.doesNotMatch(t, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  assert.match(t, /evil\\x1b\]52;c;AAAA\\x07/);
  const r = coalesce('sha256:m', [{
    digest: 'sha256:' + '1'.repeat(64), scannerSet: 's', packageDbs: [{ path: 'x', packages: [pkg('a\u001b[2J', '1\u001b[H', 'x')] }],
    distributions: [], repositories: [], whiteouts: [], opaqueDirs: [], errors: ['bad \u001b[1mname'], size: 0,
  }]);
  assert.doesNotMatch(renderIndexTable(r), /\u001b/);
});

test('#18.1 other line readers of image files (apk installed db, dpkg file lists) survive 130 MiB of newlines', () => {
  const text = '\n'.repeat(130 * 1024 * 1024);
  assert.deepEqual(apkPackages(`P:musl\nV:1.2.4-r2\n${text}`, 'lib/apk/db/installed').map((p) => p.name), ['musl']);
  assert.deepEqual(listedFiles(`/usr/lib/x\n${text}`, 'list'), ['usr/lib/x']);
});
