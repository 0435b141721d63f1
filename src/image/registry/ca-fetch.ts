// A fetch for registries whose certificate comes from a private CA (RegistryOptions.caFile).
// Node's global fetch is undici, but undici's Agent (what `fetch(url, { dispatcher })` would need for a
// custom CA) is not importable without the undici package, which clair-ts does not depend on. So HTTPS
// requests go through node:https with an Agent trusting the public roots plus the given CA, and the
// answer is wrapped in a standard Response; plain HTTP still uses the global fetch.

import { readFile } from 'node:fs/promises';
import https from 'node:https';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import { ClairError } from '../../model/errors.ts';

export async function fetchTrustingCa(caFile: string, base: typeof fetch = fetch): Promise<typeof fetch> {
  let pem: string;
  try {
    pem = await readFile(caFile, 'utf8');
  } catch (err) {
    throw new ClairError('bad-input', `CA file ${caFile} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ClairError('bad-input', `CA file ${caFile} holds no PEM certificate`);
  const agent = new https.Agent({ ca: [...tls.rootCertificates, pem], keepAlive: true });
  const caFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol !== 'https:') return base(input, init);
    const method = init?.method ?? 'GET';
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
    return new Promise<Response>((resolve, reject) => {
      const req = https.request(url, { method, headers, agent, ...(init?.signal ? { signal: init.signal } : {}) }, (res) => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (Array.isArray(v)) for (const one of v) h.append(k, one);
          else if (v !== undefined) h.set(k, v);
        }
        const status = res.statusCode ?? 500;
        const noBody = method === 'HEAD' || status === 204 || status === 304;
        if (noBody) res.resume();
        resolve(new Response(noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, statusText: res.statusMessage ?? '', headers: h }));
      });
      // The same shape as a failing global fetch, so retry logic sees one kind of network error.
      req.on('error', (err) => reject(new TypeError('fetch failed', { cause: err })));
      req.end();
    });
  };
  return caFetch as typeof fetch;
}
