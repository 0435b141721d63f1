// Reads layer blobs the way the indexer does, `parallel` at a time, with the tar walk and scanners left out: positional
// 1 MiB reads hashed in the read loop (digest checked against the blob's file name), Node's own zlib or zstd (sniffed),
// decompressed chunks lent and freed after each push, output discarded (src/image/blob-chunks.ts, layer-stream.ts).
// What the platform's decompressor plus the digest check cost, beside the command-line tools of the bound
// (bench/index-big.ts). Usage: node bench/node-decompress.ts PARALLEL BLOB...

import { basename } from 'node:path';
import { fileChunks } from '../src/image/blob-chunks.ts';
import { DigestCheck } from '../src/image/digest-verifier.ts';
import { decompressBlob } from '../src/image/layer-stream.ts';

async function decompress(path: string): Promise<void> {
  const digest = `sha256:${basename(path)}`;
  const chunks = await fileChunks(path, new DigestCheck(digest));
  await decompressBlob(chunks, digest, () => {}, { lend: true });
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
