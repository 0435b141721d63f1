import assert from 'node:assert/strict';
import { ClairError } from '../../model/errors.ts';
import type { ResolvedImage } from '../resolved-image.ts';
import { decompressBlob, decompressLayer } from '../layer-stream.ts';
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

/**
 * Reads every layer through decompressLayer; returns the sha256 of each uncompressed tar. A source with readLayer
 * (the indexer's path) is read through it and decompressBlob too, and must give the same bytes.
 */
export async function diffIdsRead(image: ResolvedImage): Promise<string[]> {
  const out: string[] = [];
  for (const l of image.layers) {
    const streamed = sha256(await collect(decompressLayer(await image.openLayer(l), l.digest)));
    if (image.readLayer) {
      const chunks: Buffer[] = [];
      await decompressBlob(await image.readLayer(l), l.digest, (c) => chunks.push(Buffer.from(c)));
      assert.equal(sha256(Buffer.concat(chunks)), streamed, `layer ${l.digest}: readLayer and openLayer differ`);
    }
    out.push(streamed);
  }
  return out;
}
