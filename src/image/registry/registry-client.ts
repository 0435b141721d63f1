// The registry HTTP API v2 (OCI distribution-spec v1.1, "Pull"): manifests and blobs of one registry,
// with the scheme decided once (HTTPS; plain HTTP only where allowed and HTTPS cannot connect) and
// every request authorized through RegistryAuth's challenge handling.

import type { Readable } from 'node:stream';
import { ClairError } from '../../model/errors.ts';
import { parseChallenges } from './auth-challenge.ts';
import { verifiedBlobStream, type BlobProgress } from './blob-download.ts';
import type { Credentials } from './credentials.ts';
import { displayUrl, isCertificateError, type HttpTransport } from './http-transport.ts';
import { plainHttpAllowed, type InsecureSetting } from './plain-http.ts';
import { pullScope, RegistryAuth, type TokenCache } from './registry-auth.ts';

export interface RegistryClientOptions {
  /** host[:port] serving the API ("registry-1.docker.io", "localhost:5000"). */
  host: string;
  transport: HttpTransport;
  credentials: Credentials | undefined;
  insecure?: InsecureSetting | undefined;
  tokenCache?: TokenCache;
  /** The raw fetch used for the one HTTPS probe of a plain-HTTP-allowed registry. */
  probeFetch: typeof fetch;
}

export interface FetchedDocument {
  bytes: Buffer;
  /** Content-Type without parameters; '' when absent. */
  contentType: string;
  /** Docker-Content-Digest when the registry sent one. */
  headerDigest?: string;
}

/** A manifest larger than this is refused (distribution's own limit is 4 MiB). */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export class RegistryClient {
  readonly host: string;
  readonly #transport: HttpTransport;
  readonly #auth: RegistryAuth;
  readonly #insecure: InsecureSetting | undefined;
  readonly #probeFetch: typeof fetch;
  #base: Promise<string> | undefined;

  constructor(opts: RegistryClientOptions) {
    this.host = opts.host;
    this.#transport = opts.transport;
    this.#insecure = opts.insecure;
    this.#probeFetch = opts.probeFetch;
    this.#auth = new RegistryAuth({ host: opts.host, credentials: opts.credentials, transport: opts.transport, insecure: opts.insecure, ...(opts.tokenCache ? { cache: opts.tokenCache } : {}) });
  }

  /** GET /v2/<name>/manifests/<reference>. 404 → 'not-found' naming `what`. */
  async getManifest(repository: string, reference: string, accept: readonly string[], what: string): Promise<FetchedDocument> {
    const res = await this.#authorized(repository, `/v2/${repository}/manifests/${reference}`, { accept: accept.join(', ') }, what);
    await this.#expectOk(res, what, `manifest ${reference} of ${this.host}/${repository}`);
    const doc: FetchedDocument = { bytes: await readCapped(res, MAX_MANIFEST_BYTES, what), contentType: (res.headers.get('content-type') ?? '').split(';')[0]!.trim() };
    const headerDigest = res.headers.get('docker-content-digest');
    if (headerDigest) doc.headerDigest = headerDigest;
    return doc;
  }

  /** A small blob (an image config) in memory; the caller verifies its digest. */
  async readBlob(repository: string, digest: string, cap: number, what: string): Promise<Buffer> {
    const res = await this.#authorized(repository, `/v2/${repository}/blobs/${digest}`, {}, what);
    await this.#expectOk(res, what, `blob ${digest} of ${this.host}/${repository}`);
    return readCapped(res, cap, what);
  }

  /** A streamed, digest-verified, resumable blob. */
  async openBlob(repository: string, blob: { digest: string; size?: number }, what: string, onProgress?: (e: BlobProgress) => void): Promise<Readable> {
    const open = async (offset: number): Promise<Response> =>
      this.#authorized(repository, `/v2/${repository}/blobs/${blob.digest}`, offset > 0 ? { range: `bytes=${offset}-` } : {}, what);
    const first = await open(0);
    await this.#expectOk(first, what, `blob ${blob.digest} of ${this.host}/${repository}`);
    return verifiedBlobStream({ digest: blob.digest, ...(blob.size !== undefined ? { size: blob.size } : {}), what, open, first, transport: this.#transport, onProgress });
  }

  #baseUrl(): Promise<string> {
    this.#base ??= this.#decideScheme();
    return this.#base;
  }

  // One probe, only for registries allowed plain HTTP: whether HTTPS connects at all. Any HTTP answer
  // (401 included) means HTTPS works; a failed handshake or connection means the registry speaks HTTP.
  async #decideScheme(): Promise<string> {
    const https = `https://${this.host}`;
    if (!plainHttpAllowed(this.host, this.#insecure)) return https;
    try {
      const res = await this.#probeFetch(`${https}/v2/`, { redirect: 'manual' });
      await res.body?.cancel().catch(() => {});
      return https;
    } catch (err) {
      // An untrusted certificate means HTTPS is there: report it rather than retreat to plain HTTP.
      return isCertificateError(err) ? https : `http://${this.host}`;
    }
  }

  async #authorized(repository: string, path: string, headers: Record<string, string>, what: string): Promise<Response> {
    const scope = pullScope(repository);
    const url = `${await this.#baseUrl()}${path}`;
    const cached = this.#auth.cached(scope);
    let res = await this.#transport.request(url, { headers: cached ? { ...headers, authorization: cached } : headers }, what);
    if (res.status !== 401) return res;
    const challenges = parseChallenges(res.headers.get('www-authenticate') ?? '');
    await res.body?.cancel().catch(() => {});
    const authorization = await this.#auth.respond(challenges, scope, what);
    res = await this.#transport.request(url, { headers: { ...headers, authorization } }, what);
    if (res.status === 401) throw this.#auth.unauthorized(what, await registryErrorText(res, `${displayUrl(url)} answered 401 to the credentials`));
    return res;
  }

  async #expectOk(res: Response, what: string, subject: string): Promise<void> {
    if (res.status === 200) return;
    if (res.status === 404) throw new ClairError('not-found', `${what}: ${subject} not found${await registryErrorText(res, '', ' (', ')')}`);
    if (res.status === 403) throw this.#auth.unauthorized(what, await registryErrorText(res, 'HTTP 403'));
    throw new ClairError('unavailable', `${what}: ${subject}: registry answered HTTP ${res.status}${await registryErrorText(res, '', ': ')}`);
  }
}

/**
 * The registry's own explanation (distribution-spec "Error Codes": {"errors":[{"code","message"}]}),
 * else `fallback`. Consumes the body.
 */
async function registryErrorText(res: Response, fallback: string, before = '', after = ''): Promise<string> {
  let text = '';
  try {
    text = (await readCapped(res, 64 * 1024, 'error body')).toString('utf8');
  } catch {
    return fallback;
  }
  try {
    const doc = JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[] };
    const parts = (doc.errors ?? []).map((e) => [e.code, e.message].filter((x) => typeof x === 'string' && x !== '').join(': ')).filter((s) => s !== '');
    if (parts.length > 0) return `${before}${parts.join('; ')}${after}`;
  } catch {
    // not JSON: no explanation to add
  }
  return fallback;
}

/** Reads a response body into memory, refusing more than `cap` bytes as it arrives. */
async function readCapped(res: Response, cap: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > cap) {
    await res.body?.cancel().catch(() => {});
    throw new ClairError('bad-image', `${what}: ${declared} bytes is more than ${cap} allowed`);
  }
  if (res.body === null) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body) {
    total += chunk.length;
    if (total > cap) {
      await res.body.cancel().catch(() => {});
      throw new ClairError('bad-image', `${what}: more than ${cap} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
