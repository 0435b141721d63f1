import { parseDigest } from '../image/digest.ts';
import { ClairError } from '../model/errors.ts';
import type { Manifest, ManifestLayer } from '../service/manifest-image.ts';

// Request bodies checked by hand against Clair's schemas (manifest.schema.json, layer.schema.json,
// bulk_delete.schema.json), with messages that point at the offending field. Unknown fields are ignored, as
// Clair's Go decoder ignores them.

function fail(where: string, why: string): never {
  throw new ClairError('bad-input', `${where}: ${why}`);
}

/** A digest from a path, a manifest or a bulk delete; sha256 and sha512 (blake3 is refused as unsupported). */
export function checkDigest(value: unknown, where: string): string {
  if (typeof value !== 'string') fail(where, `expected a digest string, got ${value === null ? 'null' : typeof value}`);
  try {
    parseDigest(value);
  } catch (e) {
    fail(where, (e as Error).message);
  }
  return value;
}

const HEADER_NAME = /^[a-zA-Z0-9\-_]+$/;
/** RFC 9110 field-value: visible characters, spaces and tabs; no CR, LF, NUL or other controls. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const LAYER_MEDIA_TYPE = /^application\/vnd\.oci\.image\.layer\.v1\.tar(\+(gzip|zstd))?$/;

export function parseManifest(body: unknown): Manifest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) fail('manifest', 'expected a JSON object {"hash": ..., "layers": [...]}');
  const b = body as Record<string, unknown>;
  const hash = checkDigest(b.hash, 'manifest.hash');
  // The schema makes layers optional, but Clair answers 400 ("bogus manifest") without any: there is nothing to index.
  if (!Array.isArray(b.layers) || b.layers.length === 0) fail(`manifest ${hash}`, 'layers must be a non-empty array');
  const layers = b.layers.map((l: unknown, i): ManifestLayer => {
    const where = `manifest ${hash} layers[${i}]`;
    if (l === null || typeof l !== 'object' || Array.isArray(l)) fail(where, 'expected an object {"hash", "uri", "headers"}');
    const o = l as Record<string, unknown>;
    const lh = checkDigest(o.hash, `${where}.hash`);
    if (typeof o.uri !== 'string' || o.uri === '') fail(`${where}.uri`, 'expected a non-empty string');
    try {
      new URL(o.uri);
    } catch {
      fail(`${where}.uri`, `${JSON.stringify(o.uri.slice(0, 100))} is not a URL`);
    }
    const headers: Record<string, string[]> = {};
    if (o.headers !== undefined && o.headers !== null) {
      if (typeof o.headers !== 'object' || Array.isArray(o.headers)) fail(`${where}.headers`, 'expected an object of header name → list of values');
      for (const [name, values] of Object.entries(o.headers as Record<string, unknown>)) {
        if (!HEADER_NAME.test(name)) fail(`${where}.headers`, `${JSON.stringify(name)} is not a header name`);
        // Clair's Go type is http.Header (lists); a lone string is accepted as a one-element list.
        const list = typeof values === 'string' ? [values] : values;
        if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) fail(`${where}.headers.${name}`, 'expected a list of strings');
        // Header values are usually credentials: a malformed one is refused without being echoed (or logged).
        if (!(list as string[]).every((v) => HEADER_VALUE.test(v))) fail(`${where}.headers.${name}`, 'a value holds control characters (value not shown)');
        headers[name] = list as string[];
      }
    }
    const layer: ManifestLayer = { hash: lh, uri: o.uri, headers };
    if (o.media_type !== undefined) {
      if (typeof o.media_type !== 'string' || !LAYER_MEDIA_TYPE.test(o.media_type)) fail(`${where}.media_type`, 'expected an OCI layer media type application/vnd.oci.image.layer.v1.tar[+gzip|+zstd]');
      layer.mediaType = o.media_type;
    }
    return layer;
  });
  return { hash, layers };
}

/**
 * The optional `repository` of an index request (a clair-ts addition): the repository name the manifest is known
 * under, recorded for subscriptions that select manifests by repository pattern.
 */
export function parseRepositoryHint(body: unknown): string | undefined {
  const v = (body as Record<string, unknown>).repository;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '' || v.length > 1024 || /[\x00-\x1f\x7f]/.test(v)) fail('manifest.repository', 'expected a repository name of 1 to 1024 printable characters');
  return v;
}

export function parseBulkDelete(body: unknown): string[] {
  if (!Array.isArray(body)) fail('bulk delete', 'expected a JSON array of manifest digests');
  return body.map((d, i) => checkDigest(d, `bulk delete [${i}]`));
}
