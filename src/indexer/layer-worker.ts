// The worker-thread side of LayerWorkers (layer-workers.ts): decompresses, walks and scans layers whose compressed
// bytes the main thread posts, and posts back only what the scanners found. The scanners are built here from the
// recipe in workerData (a module and its options), so they are the same set as the main thread's.

import { parentPort, workerData } from 'node:worker_threads';
import { PassThrough } from 'node:stream';
import { STREAM_BUFFER } from '../image/compression.ts';
import { decompressLayer } from '../image/layer-stream.ts';
import { isClairError } from '../model/errors.ts';
import { walkLayer } from './layer-walker.ts';
import type { Scanner } from './scanner.ts';
import type { ScannerRecipe, ToWorker, FromWorker } from './layer-workers.ts';

const port = parentPort!;
const recipe = workerData as ScannerRecipe;
const scanners: Promise<readonly Scanner[]> = import(recipe.module).then((m: Record<string, unknown>) => {
  const build = m[recipe.export];
  if (typeof build !== 'function') throw new Error(`${recipe.module} has no function ${recipe.export}`);
  return (build as (options: unknown) => readonly Scanner[])(recipe.options);
});
// A recipe that fails is reported per layer (as the scan's error), not as an unhandled rejection of the worker.
scanners.catch(() => {});

/** The layer being scanned (one at a time per worker); messages of a layer given up are dropped. */
let input: PassThrough | undefined;
let current = 0;

function post(m: FromWorker): void {
  port.postMessage(m);
}

port.on('message', (m: ToWorker) => {
  if (m.type !== 'start' && m.id !== current) return;
  switch (m.type) {
    case 'start':
      start(m.id, m.digest);
      break;
    case 'chunk': {
      const chunk = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
      // Acknowledged once the decompressor took it: the main thread's budget of bytes in flight (backpressure).
      input?.write(chunk, () => post({ type: 'ack', id: m.id, bytes: chunk.length }));
      break;
    }
    case 'end':
      input?.end();
      break;
    case 'abort':
      input?.destroy(new Error('aborted'));
      break;
  }
});

function start(id: number, digest: string): void {
  const src = new PassThrough({ highWaterMark: STREAM_BUFFER });
  input = src;
  current = id;
  void (async () => {
    try {
      // The scanners first: a recipe that fails must not leave a decompressor behind with nobody reading it, whose
      // error when `src` is destroyed below would be uncaught and end the worker (racing the error posted here).
      const built = await scanners;
      const walk = await walkLayer([decompressLayer(src, digest)], digest, built);
      post({ type: 'done', id, walk });
    } catch (e) {
      post({ type: 'error', id, code: isClairError(e) ? e.code : 'internal', message: e instanceof Error ? e.message : String(e) });
    } finally {
      if (input === src) input = undefined;
      src.destroy();
    }
  })();
}
