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
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8]] as const) blocked.addSubnet(net, prefix, 'ipv6');

/**
 * An address in every form a resolver or URL parser may hand over, normalised: IPv4 as dotted quad (inet_aton's
 * `2130706433`, `0177.0.0.1`, `0x7f.1` and `127.1` included, as the URL parser reads them) and IPv6 as eight
 * 16-bit groups (from `[::127.0.0.1]`, `::ffff:7f00:1`, zone ids dropped). Undefined when it is not an address.
 */
export function normalizeAddress(address: string): { family: 4; v4: string } | { family: 6; groups: number[] } | undefined {
  const a = address.trim().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (a.includes(':')) {
    let host: string;
    try {
      host = new URL(`http://[${a}]/`).hostname.slice(1, -1); // canonical: hex groups, "::" for the longest zero run
    } catch {
      return undefined;
    }
    const [head, tail] = host.includes('::') ? host.split('::') : [host, undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g, 16));
    return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? { family: 6, groups } : undefined;
  }
  if (isIP(a) === 4) return { family: 4, v4: a };
  // Legacy IPv4 forms (decimal, octal, hex, fewer parts): the WHATWG URL parser reads them as getaddrinfo does.
  if (!/^[0-9a-fA-FxX.]+$/.test(a)) return undefined;
  try {
    const host = new URL(`http://${a}/`).hostname;
    return isIP(host) === 4 ? { family: 4, v4: host } : undefined;
  } catch {
    return undefined;
  }
}

function v4Of(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/**
 * The IPv4 address an IPv6 address carries, for the forms that reach it: IPv4-mapped (::ffff:a.b.c.d),
 * IPv4-compatible (::a.b.c.d, deprecated but still routed by some stacks), IPv4-translated (::ffff:0:a.b.c.d),
 * NAT64 (64:ff9b::/96 and the local-use 64:ff9b:1::/48), 6to4 (2002:AABB:CCDD::/48) and Teredo (2001:0::/32, the
 * client address inverted in the last 32 bits).
 */
function embeddedV4(g: number[]): string | undefined {
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return v4Of(g[6]!, g[7]!);
  if (zeros(0, 6) && (g[6] !== 0 || g[7]! > 1)) return v4Of(g[6]!, g[7]!);
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return v4Of(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && (zeros(2, 6) || g[2] === 1)) return v4Of(g[6]!, g[7]!);
  if (g[0] === 0x2002) return v4Of(g[1]!, g[2]!);
  if (g[0] === 0x2001 && g[1] === 0) return v4Of(g[6]! ^ 0xffff, g[7]! ^ 0xffff);
  return undefined;
}

/** Is this address one that layer fetches must not reach by default? Every form is normalised first. */
export function isPrivateAddress(address: string): boolean {
  const n = normalizeAddress(address);
  if (!n) return true; // not an address at all: refuse rather than guess
  if (n.family === 4) return blocked.check(n.v4, 'ipv4');
  const v4 = embeddedV4(n.groups);
  if (v4 !== undefined && blocked.check(v4, 'ipv4')) return true;
  return blocked.check(n.groups.map((x) => x.toString(16)).join(':'), 'ipv6');
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
    // An address literal skips DNS lookup entirely, so it is checked here (in whatever form it was written: the URL
    // parser has already turned `2130706433` or `0x7f.1` into 127.0.0.1; normalizeAddress does the rest).
    if (!allowPrivate && normalizeAddress(host) !== undefined && isPrivateAddress(host)) throw refused(host, host);
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
