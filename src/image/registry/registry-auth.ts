// Authorization for one registry, driven by its 401 challenges:
//   Basic  → the known credentials, base64 (RFC 7617).
//   Bearer → distribution's token flow (docs/spec/auth/token.md): GET realm?service=…&scope=…, with the
//            credentials as Basic when known, answer {token | access_token, expires_in}. Tokens are cached
//            per registry, scope and credentials until expires_in (60 s when absent, as the spec says).
// Messages name where credentials came from (Credentials.source), never what they are.

import { createHash } from 'node:crypto';
import { ClairError } from '../../model/errors.ts';
import type { Challenge } from './auth-challenge.ts';
import type { Credentials } from './credentials.ts';
import { displayUrl, type HttpTransport } from './http-transport.ts';
import { plainHttpAllowed, type InsecureSetting } from './plain-http.ts';

const DEFAULT_TOKEN_LIFETIME_S = 60;
/** Renew this long before a token expires, so a request does not race its expiry. */
const EXPIRY_MARGIN_MS = 5_000;
const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;

interface CachedToken {
  header: string;
  expiresAt: number;
}

/** Shared by every image opened in this process: a server scanning many images asks once per scope. */
export class TokenCache {
  readonly #tokens = new Map<string, CachedToken>();

  get(key: string, now = Date.now()): string | undefined {
    const t = this.#tokens.get(key);
    if (t === undefined) return undefined;
    if (t.expiresAt <= now) {
      this.#tokens.delete(key);
      return undefined;
    }
    return t.header;
  }

  set(key: string, header: string, expiresAt: number): void {
    this.#tokens.set(key, { header, expiresAt });
  }

  clear(): void {
    this.#tokens.clear();
  }
}

const defaultTokenCache = new TokenCache();

function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
}

/** The scope a pull needs (token.md "Requesting a Token"). */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

export interface RegistryAuthOptions {
  /** host[:port] of the registry API, for cache keys and messages. */
  host: string;
  credentials: Credentials | undefined;
  transport: HttpTransport;
  insecure: InsecureSetting | undefined;
  cache?: TokenCache;
}

export class RegistryAuth {
  readonly #host: string;
  readonly #credentials: Credentials | undefined;
  readonly #transport: HttpTransport;
  readonly #insecure: InsecureSetting | undefined;
  readonly #cache: TokenCache;
  /** Learned from the first challenge: basic registries need no round trip per scope. */
  #basic = false;

  constructor(opts: RegistryAuthOptions) {
    this.#host = opts.host;
    this.#credentials = opts.credentials;
    this.#transport = opts.transport;
    this.#insecure = opts.insecure;
    this.#cache = opts.cache ?? defaultTokenCache;
  }

  /** The Authorization value already known for `scope`, if any. */
  cached(scope: string): string | undefined {
    if (this.#basic && this.#credentials) return basicHeader(this.#credentials);
    return this.#cache.get(this.#cacheKey(scope));
  }

  /** Answers a 401's challenges for `scope`; throws 'unauthorized' when no answer can be given. */
  async respond(challenges: Challenge[], scope: string, what: string): Promise<string> {
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) return this.#bearer(bearer, scope, what);
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (!this.#credentials) throw this.unauthorized(what, 'the registry requires a login');
      this.#basic = true;
      return basicHeader(this.#credentials);
    }
    const schemes = challenges.map((c) => c.scheme).join(', ') || 'none';
    throw new ClairError('unsupported', `${what}: ${this.#host} asks for authentication scheme(s) ${schemes}; Bearer and Basic are supported`);
  }

  unauthorized(what: string, why: string): ClairError {
    const hint = this.#credentials
      ? `credentials from ${this.#credentials.source} were refused`
      : 'no credentials were found (use --username/--password-stdin, CLAIR_TS_REGISTRY_USERNAME/CLAIR_TS_REGISTRY_PASSWORD, or `docker login`)';
    return new ClairError('unauthorized', `${what}: ${this.#host} denied access: ${why}; ${hint}`);
  }

  #cacheKey(scope: string): string {
    // Tokens bought with different credentials must not be shared; the key holds a hash, not the secret.
    const who = this.#credentials ? createHash('sha256').update(`${this.#credentials.username}\0${this.#credentials.password}`).digest('hex') : 'anonymous';
    return `${this.#host}\0${scope}\0${who}`;
  }

  async #bearer(challenge: Challenge, scope: string, what: string): Promise<string> {
    const realm = challenge.params['realm'];
    if (!realm) throw new ClairError('bad-image', `${what}: ${this.#host} sent a Bearer challenge without a realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new ClairError('bad-image', `${what}: ${this.#host} sent a Bearer realm that is not a URL`);
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && plainHttpAllowed(url.host, this.#insecure))) {
      throw new ClairError('unsupported', `${what}: token service ${displayUrl(url)} is not HTTPS and ${url.host} is not allowed plain HTTP (see insecure registries)`);
    }
    const service = challenge.params['service'];
    if (service) url.searchParams.set('service', service);
    // The challenge's scope is what the registry wants for this request; ours is the fallback.
    const wanted = challenge.params['scope'] || scope;
    for (const s of wanted.split(' ')) if (s) url.searchParams.append('scope', s);
    if (this.#credentials) url.searchParams.set('account', this.#credentials.username);

    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#credentials) headers['authorization'] = basicHeader(this.#credentials);
    const res = await this.#transport.request(url.toString(), { headers }, `${what}: token request`);
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel().catch(() => {});
      throw this.unauthorized(what, `token service ${displayUrl(url)} answered ${res.status} for scope ${wanted}`);
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      throw new ClairError('unavailable', `${what}: token service ${displayUrl(url)} answered HTTP ${res.status}`);
    }
    const text = await res.text();
    if (text.length > MAX_TOKEN_RESPONSE_BYTES) throw new ClairError('bad-image', `${what}: token service ${displayUrl(url)} sent ${text.length} bytes, too many for a token`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ClairError('bad-image', `${what}: token service ${displayUrl(url)} did not answer JSON`);
    }
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const token = typeof b['token'] === 'string' && b['token'] !== '' ? b['token'] : typeof b['access_token'] === 'string' ? b['access_token'] : '';
    if (token === '') throw new ClairError('bad-image', `${what}: token service ${displayUrl(url)} answered without token or access_token`);
    const lifetime = typeof b['expires_in'] === 'number' && b['expires_in'] > 0 ? b['expires_in'] : DEFAULT_TOKEN_LIFETIME_S;
    const header = `Bearer ${token}`;
    this.#cache.set(this.#cacheKey(scope), header, Date.now() + Math.max(0, lifetime * 1000 - EXPIRY_MARGIN_MS));
    return header;
  }
}
