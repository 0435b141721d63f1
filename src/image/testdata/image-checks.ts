import assert from 'node:assert/strict';
import { ClairError } from '../../model/errors.ts';
import type { ResolvedImage } from '../resolved-image.ts';
import { decompressLayer } from '../layer-stream.ts';
import { collect, sha256 } from './image-builder.ts';

// Assertions shared by the image source tests.

export function expectClairError(code: string, message: RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof ClairError, `expected ClairError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  };
}

/** Reads every layer through decompressLayer; returns the sha256 of each uncompressed tar. */
export async function diffIdsRead(image: ResolvedImage): Promise<string[]> {
  const out: string[] = [];
  for (const l of image.layers) out.push(sha256(await collect(decompressLayer(await image.openLayer(l), l.digest))));
  return out;
}
