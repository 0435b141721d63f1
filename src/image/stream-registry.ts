// The layer streams an image has handed out, so that ResolvedImage.close() can end the ones a caller
// abandoned (each holds a file descriptor) and refuse new ones.

import type { Readable } from 'node:stream';
import { ClairError } from '../model/errors.ts';

export class StreamRegistry {
  readonly #owner: string;
  readonly #open = new Set<Readable>();
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

  closeAll(): void {
    this.#closed = true;
    for (const s of this.#open) s.destroy();
    this.#open.clear();
  }
}
