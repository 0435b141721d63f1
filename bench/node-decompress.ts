// Decompresses layer blobs with Node's own zlib (gzip or zstd, sniffed), `parallel` at a time, output discarded:
// what the platform's decompressors alone cost, beside the command-line tools of the bound (bench/index-big.ts).
// Chunks as the indexer uses them (1 MiB reads and outputs). Usage: node bench/node-decompress.ts PARALLEL BLOB...

import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { open } from 'node:fs/promises';
import zlib from 'node:zlib';

const CHUNK = 1 << 20;

async function decompress(path: string): Promise<void> {
  const f = await open(path, 'r');
  const head = Buffer.alloc(4);
  await f.read(head, 0, 4, 0);
  await f.close();
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  const d = gzip ? zlib.createGunzip({ chunkSize: CHUNK }) : zlib.createZstdDecompress({ chunkSize: CHUNK });
  await pipeline(createReadStream(path, { highWaterMark: CHUNK }), d, new Writable({ write: (_c, _e, cb) => cb() }));
}

const [parallelArg, ...blobs] = process.argv.slice(2);
const parallel = Number(parallelArg);
if (!Number.isInteger(parallel) || parallel < 1 || blobs.length === 0) {
  process.stderr.write('usage: node bench/node-decompress.ts PARALLEL BLOB...\n');
  process.exit(2);
}
let next = 0;
await Promise.all(Array.from({ length: Math.min(parallel, blobs.length) }, async () => {
  while (next < blobs.length) await decompress(blobs[next++]!);
}));
