// The layer streams (and BlobChunks) an image has handed out, so that ResolvedImage.close() can end the ones a caller
// abandoned (each holds a file descriptor) and refuse new ones.

import type { Readable } from 'node:stream';
import { ClairError } from '../model/errors.ts';
import type { BlobChunks } from './blob-chunks.ts';

export class StreamRegistry {
  readonly #owner: string;
  readonly #open = new Set<{ destroy(): void }>();
  #closed = false;

  constructor(owner: string) {
    this.#owner = owner;
  }

  assertOpen(): void {
    if (this.#closed) throw new ClairError('bad-input', `${this.#owner} was closed; open the image again to read layers`);
  }

  track<T extends Readable>(stream: T): T {
    this.#open.add(stream);
    stream.once('close', () => this.#open.delete(stream));
    return stream;
  }

  trackChunks(chunks: BlobChunks): BlobChunks {
    const entry = { destroy: () => chunks.close() };
    this.#open.add(entry);
    const previous = chunks.onClose;
    chunks.onClose = () => {
      this.#open.delete(entry);
      previous?.();
    };
    return chunks;
  }

  closeAll(): void {
    this.#closed = true;
    for (const s of this.#open) s.destroy();
    this.#open.clear();
  }
}
