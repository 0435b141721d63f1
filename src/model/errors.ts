// Typed errors: every boundary (CLI, HTTP, image, layer, feed, config) raises a ClairError with a stable
// code that callers branch on, and a message that names the input that caused it.

export type ErrorCode =
  | 'bad-input' // malformed argument, reference, request or config
  | 'not-found' // a path, image, manifest, tag or record that does not exist
  | 'bad-image' // an image layout / archive / manifest that cannot be read
  | 'bad-layer' // a layer that is not a (compressed) tar, or is truncated
  | 'digest-mismatch' // bytes whose digest differs from the one claimed
  | 'bad-feed' // a vulnerability feed that cannot be parsed
  | 'bad-database' // a package database (rpm, dpkg, apk) that cannot be read
  | 'unsupported' // a well-formed input in a form we do not handle (schema 1 manifest, unknown scheme)
  | 'unavailable' // a remote that failed (network, 5xx) after retries
  | 'unauthorized'
  | 'conflict'
  | 'internal';

export class ClairError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'ClairError';
  }
}

export function isClairError(e: unknown): e is ClairError {
  return e instanceof ClairError;
}

/** A message for any thrown value, for logs and CLI output. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
