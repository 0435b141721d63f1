import { ClairError, type ErrorCode } from '../model/errors.ts';

// Every error answer is Clair's error object (error.schema.json): {"code": "...", "message": "..."} with
// Content-Type application/json. The codes follow Clair's apiError vocabulary (bad-request, not-found,
// method-not-allowed, too-many-requests, internal-error), extended for statuses Clair does not produce.

export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.status = status;
    this.code = options?.code ?? codeForStatus(status);
    this.name = 'HttpError';
  }
}

export function codeForStatus(status: number): string {
  switch (status) {
    case 400: return 'bad-request';
    case 401: return 'unauthorized';
    case 404: return 'not-found';
    case 405: return 'method-not-allowed';
    case 408: return 'request-timeout';
    case 409: return 'conflict';
    case 412: return 'precondition-failed';
    case 413: return 'payload-too-large';
    case 414: return 'uri-too-long';
    case 415: return 'unsupported-media-type';
    case 429: return 'too-many-requests';
    case 431: return 'request-header-fields-too-large';
    case 502: return 'bad-gateway';
    case 503: return 'unavailable';
    default: return 'internal-error';
  }
}

const STATUS_OF: Record<ErrorCode, number> = {
  'bad-input': 400,
  'not-found': 404,
  'bad-image': 400,
  'bad-layer': 400,
  'digest-mismatch': 400,
  'bad-feed': 502,
  'bad-database': 400,
  unsupported: 400,
  unavailable: 502,
  unauthorized: 401,
  conflict: 409,
  internal: 500,
};

/** Status, code and message for anything a handler threw. Unknown errors are 500 with a generic message. */
export function errorAnswer(e: unknown): { status: number; code: string; message: string } {
  if (e instanceof HttpError) return { status: e.status, code: e.code, message: e.message };
  if (e instanceof ClairError) {
    const status = STATUS_OF[e.code] ?? 500;
    return { status, code: codeForStatus(status), message: e.message };
  }
  // Fastify's own errors (body too large, bad JSON, unsupported content type) carry a 4xx statusCode.
  const sc = (e as { statusCode?: unknown } | null)?.statusCode;
  if (typeof sc === 'number' && sc >= 400 && sc < 500) return { status: sc, code: codeForStatus(sc), message: (e as Error).message };
  return { status: 500, code: 'internal-error', message: 'internal error; see the server log' };
}
