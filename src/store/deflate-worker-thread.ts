// The worker-thread side of deflate-worker.ts: deflates texts as stored-text.ts's encodeText does, packs as
// vulnerability-pack.ts's deflatePack does (the same functions, so the same bytes) and enrichment packs with zlib's
// defaults (enrichment-pack.ts), and posts them back as one transferred buffer and the end offset of each. Requests
// marked `sync` are answered on the port given at start, which the main thread reads synchronously (or not at all,
// when the main thread has given the request up).

import { deflateRawSync } from 'node:zlib';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { encodeText } from './stored-text.ts';
import { deflatePack } from './vulnerability-pack.ts';
import type { DeflateReply, DeflateRequest, DeflateWorkerData } from './deflate-worker.ts';

const port = parentPort!;
const { syncPort, abandoned } = workerData as DeflateWorkerData;
const givenUp = new Int32Array(abandoned);

port.on('message', (m: DeflateRequest) => {
  // A synchronous request the main thread has done itself meanwhile is skipped.
  if (m.sync && m.id <= Atomics.load(givenUp, 0)) return;
  const to: MessagePort | typeof port = m.sync ? syncPort : port;
  try {
    const parts = m.items.map(m.kind === 'text' ? encodeText : m.kind === 'pack' ? deflatePack : (x: string) => deflateRawSync(x));
    const ends = new Uint32Array(parts.length);
    let total = 0;
    parts.forEach((p, i) => (ends[i] = total += p.length));
    const data = new Uint8Array(total);
    parts.forEach((p, i) => data.set(p, i === 0 ? 0 : ends[i - 1]!));
    const reply: DeflateReply = { id: m.id, data, ends };
    to.postMessage(reply, [data.buffer, ends.buffer]);
  } catch (e) {
    const reply: DeflateReply = { id: m.id, error: (e as Error).message };
    to.postMessage(reply);
  }
});
