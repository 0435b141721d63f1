import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { ClairError } from '../model/errors.ts';

// Layer URIs come from API clients, so fetching them must not become a way to reach the server's own network
// (SSRF): loopback, private, link-local (cloud metadata at 169.254.169.254) and unique-local addresses are refused
// unless indexer.allow_private_addresses is set. The check runs inside the socket's DNS lookup, on every address
// the name resolves to, and the connection is made to the address that was checked: a name that resolves to a
// public address for the check and to 127.0.0.1 for the connection (DNS rebinding) cannot slip through. Each
// redirect hop is a new request through the same lookup.

const blocked = new BlockList();
for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16]] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10]] as const) blocked.addSubnet(net, prefix, 'ipv6');

/** Is this address one that layer fetches must not reach by default? IPv4-mapped IPv6 is judged as IPv4. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return blocked.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) return blocked.check(address, 'ipv6');
  return true; // not an address at all: refuse rather than guess
}

function refused(host: string, address: string): ClairError {
  return new ClairError('bad-input', `layer URI host ${host} resolves to ${address}, a loopback, private or link-local address; set indexer.allow_private_addresses to allow it`);
}

/** A dns.lookup that fails when any resolved address is private. */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad) return callback(refused(hostname, bad.address) as unknown as NodeJS.ErrnoException, '', 0);
    if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

const agents = {
  guarded: { http: new http.Agent({ keepAlive: true, lookup: guardedLookup }), https: new https.Agent({ keepAlive: true, lookup: guardedLookup }) },
  open: { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) },
};

/**
 * A fetch (the subset HttpTransport uses: GET/HEAD, headers, signal, redirect 'manual') over node:http, whose
 * connections go through guardedLookup unless private addresses are allowed. Redirects are returned, never followed.
 */
export function layerFetch(allowPrivate: boolean): typeof fetch {
  const set = allowPrivate ? agents.open : agents.guarded;
  const f = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ClairError('bad-input', `layer URI scheme ${url.protocol} is not supported (http, https)`);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // An address literal skips DNS lookup entirely, so it is checked here.
    if (!allowPrivate && isIP(host) !== 0 && isPrivateAddress(host)) throw refused(host, host);
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<Response>((resolve, reject) => {
      const req = mod.request(url, { method: init?.method ?? 'GET', headers, agent: url.protocol === 'https:' ? set.https : set.http, ...(init?.signal ? { signal: init.signal } : {}) }, (res) => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (v === undefined) continue;
          for (const one of Array.isArray(v) ? v : [v]) h.append(k, one);
        }
        const status = res.statusCode ?? 502;
        const nullBody = status === 204 || status === 304 || (init?.method ?? 'GET') === 'HEAD';
        if (nullBody) res.resume();
        resolve(new Response(nullBody ? null : (Readable.toWeb(res) as ReadableStream), { status, statusText: res.statusMessage ?? '', headers: h }));
      });
      req.on('error', reject);
      req.end();
    });
  };
  return f as typeof fetch;
}
