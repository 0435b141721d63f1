// One HTTP exchange with a registry, made robust the way registries need:
//  - redirects followed by hand (blob GETs are sent to object storage), and every header that may carry a
//    credential (all but a short allow-list) dropped as soon as a hop leaves the origin it was meant for;
//  - 429, 5xx (but 501/505) and connection resets retried with exponential backoff and full jitter,
//    honouring Retry-After, for a bounded number of attempts.
// URLs in messages lose their query string: pre-signed storage URLs carry credentials there.

import { ClairError } from '../../model/errors.ts';

export interface RetryPolicy {
  /** Total attempts, first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 10_000 };
/** A Retry-After longer than this is treated as "not within this run". */
const MAX_RETRY_AFTER_MS = 60_000;
const MAX_REDIRECTS = 10;

export interface HttpRequest {
  method?: 'GET' | 'HEAD';
  headers?: Record<string, string>;
}

export interface HttpTransportOptions {
  fetch?: typeof fetch;
  retry?: Partial<RetryPolicy>;
  /** Waits between attempts; tests replace it to count waits instead of spending time. */
  sleep?: (ms: number) => Promise<void>;
}

/** A URL fit for a message: no query, no fragment, no user-info. */
export function displayUrl(url: string | URL): string {
  try {
    const u = new URL(String(url));
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(malformed URL)';
  }
}

const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);
const RETRY_ERROR_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED']);

/** The innermost error code of a fetch failure (fetch wraps socket errors in TypeError('fetch failed')). */
function networkErrorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    e = e.cause;
  }
  return undefined;
}

/** A TLS certificate the client does not trust (as opposed to a server that does not speak TLS). */
export function isCertificateError(err: unknown): boolean {
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME/.test(networkErrorCode(err) ?? '');
}

function isRetryableNetworkError(err: unknown): boolean {
  const code = networkErrorCode(err);
  if (code !== undefined) return RETRY_ERROR_CODES.has(code);
  // undici reports a body cut short as TypeError('terminated') whose cause has no code on some paths.
  return err instanceof TypeError && /terminated|other side closed|socket/i.test(`${err.message} ${String(err.cause ?? '')}`);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): random in [0, min(max, base·2^n)). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random = Math.random): number {
  return Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt));
}

export class HttpTransport {
  readonly #fetch: typeof fetch;
  readonly #retry: RetryPolicy;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(opts: HttpTransportOptions = {}) {
    this.#fetch = opts.fetch ?? fetch;
    this.#retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.#sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  get retryPolicy(): RetryPolicy {
    return this.#retry;
  }

  sleep(ms: number): Promise<void> {
    return this.#sleep(ms);
  }

  /**
   * Sends the request, following redirects and retrying transient failures. Returns the final
   * response (any status but the retried ones); its body is the caller's to read or cancel.
   * Throws 'unavailable' once attempts are exhausted or on a connection that cannot be made.
   */
  async request(url: string, req: HttpRequest, what: string): Promise<Response> {
    let lastProblem = '';
    for (let attempt = 0; attempt < this.#retry.attempts; attempt++) {
      let res: Response;
      try {
        res = await this.#followRedirects(url, req, what);
      } catch (err) {
        if (err instanceof ClairError) throw err;
        if (!isRetryableNetworkError(err)) {
          const hint = isCertificateError(err) ? '; if the registry uses a private CA, pass its certificate as caFile (--ca-file)' : '';
          throw new ClairError('unavailable', `${what}: cannot reach ${displayUrl(url)}: ${describeNetworkError(err)}${hint}`, { cause: err });
        }
        lastProblem = describeNetworkError(err);
        if (attempt + 1 < this.#retry.attempts) await this.#sleep(backoffDelay(attempt, this.#retry));
        continue;
      }
      if (!RETRY_STATUSES.has(res.status)) return res;
      lastProblem = `HTTP ${res.status}`;
      const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
      await res.body?.cancel().catch(() => {});
      if (retryAfter !== undefined && retryAfter > MAX_RETRY_AFTER_MS) {
        throw new ClairError('unavailable', `${what}: ${displayUrl(url)} answered ${res.status} and asks to retry after ${Math.round(retryAfter / 1000)} s`);
      }
      if (attempt + 1 < this.#retry.attempts) await this.#sleep(Math.max(retryAfter ?? 0, backoffDelay(attempt, this.#retry)));
    }
    throw new ClairError('unavailable', `${what}: ${displayUrl(url)} failed ${this.#retry.attempts} times; last: ${lastProblem}`);
  }

  async #followRedirects(url: string, req: HttpRequest, what: string): Promise<Response> {
    let current = new URL(url);
    const origin = current.origin;
    let headers = { ...req.headers };
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const res = await this.#fetch(current, { method: req.method ?? 'GET', headers, redirect: 'manual' });
      if (![301, 302, 303, 307, 308].includes(res.status)) return res;
      const location = res.headers.get('location');
      await res.body?.cancel().catch(() => {});
      if (location === null) throw new ClairError('bad-image', `${what}: ${displayUrl(current)} answered ${res.status} without a Location`);
      const next = new URL(location, current);
      if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new ClairError('bad-image', `${what}: redirected to unsupported scheme ${next.protocol}`);
      // Credentials belong to the origin they were given for; storage URLs carry their own signature.
      if (next.origin !== origin) headers = crossOriginHeaders(headers);
      current = next;
    }
    throw new ClairError('bad-image', `${what}: more than ${MAX_REDIRECTS} redirects from ${displayUrl(url)}`);
  }
}

/**
 * Headers that may follow a redirect to another origin. An allow-list, not a deny-list: the headers of a layer URI
 * come from the API client, and any of them may carry a credential (Authorization, Cookie, X-Registry-Auth,
 * Proxy-Authorization, X-Amz-Security-Token, a vendor's own token header…). Only content negotiation, the range of
 * a resumed download and the user agent go on.
 */
const CROSS_ORIGIN_SAFE = new Set(['accept', 'accept-encoding', 'accept-language', 'range', 'if-range', 'user-agent']);

export function crossOriginHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (CROSS_ORIGIN_SAFE.has(k.toLowerCase())) out[k] = v;
  return out;
}

export function describeNetworkError(err: unknown): string {
  const code = networkErrorCode(err);
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  const message = e instanceof Error ? e.message : String(e);
  return code !== undefined && !message.includes(code) ? `${message} (${code})` : message;
}
