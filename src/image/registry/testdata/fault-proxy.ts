// A loopback HTTP proxy in front of a real test registry that records every request and injects the
// faults a test asks for: an error status, altered blob bytes, a connection cut mid-body, a redirect to
// another host name. Tests assert on the recorded requests (counts, Range and Authorization headers),
// never on timing. Written for the registry tests; nothing here is downloaded.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  /** The Host header: tells the proxy's two names (127.0.0.1, localhost) apart. */
  host: string;
  range?: string;
  authorization?: string;
}

export type Fault =
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  /** Forward, but flip one byte of the body (length unchanged). */
  | { kind: 'corrupt' }
  /** Forward the headers and `bytes` bytes of the body, then destroy the socket. */
  | { kind: 'cut'; bytes: number }
  /** Answer 307 to the same path under http://localhost:PORT/redirected. */
  | { kind: 'redirect-to-localhost' };

/** Decides per request; `n` counts earlier requests with the same method and path (0 for the first). */
export type FaultPlan = (req: RecordedRequest, n: number) => Fault | undefined;

export interface FaultProxy {
  host: string;
  port: number;
  requests: RecordedRequest[];
  plan: FaultPlan;
  /** Sets the plan for the next requests and forgets what was recorded (and the per-path counts). */
  reset(plan?: FaultPlan): void;
  count(pred: (r: RecordedRequest) => boolean): number;
  close(): Promise<void>;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const requests: RecordedRequest[] = [];
  const seen = new Map<string, number>();
  let port = 0;
  const proxy: FaultProxy = {
    host: '',
    port: 0,
    requests,
    plan: () => undefined,
    reset: (plan) => {
      requests.length = 0;
      seen.clear();
      proxy.plan = plan ?? (() => undefined);
    },
    count: (pred) => requests.filter(pred).length,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const rec: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', host: req.headers.host ?? '' };
    if (typeof req.headers.range === 'string') rec.range = req.headers.range;
    if (typeof req.headers.authorization === 'string') rec.authorization = req.headers.authorization;
    requests.push(rec);
    const key = `${rec.method} ${rec.path}`;
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    const fault = proxy.plan(rec, n);
    if (fault?.kind === 'status') {
      res.writeHead(fault.status, { 'content-type': 'text/plain', ...fault.headers });
      res.end(`injected ${fault.status}`);
      return;
    }
    if (fault?.kind === 'redirect-to-localhost') {
      res.writeHead(307, { location: `http://localhost:${port}/redirected${rec.path}` });
      res.end();
      return;
    }
    const path = rec.path.startsWith('/redirected/') ? rec.path.slice('/redirected'.length) : rec.path;
    const headers = { ...req.headers, host: upstream };
    const up = http.request(`http://${upstream}${path}`, { method: rec.method, headers }, (upRes) => {
      if (fault?.kind === 'corrupt' || fault?.kind === 'cut') {
        const chunks: Buffer[] = [];
        upRes.on('data', (c: Buffer) => chunks.push(c));
        upRes.on('end', () => {
          const body = Buffer.concat(chunks);
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          if (fault.kind === 'corrupt') {
            const i = body.length >> 1;
            if (body.length > 0) body[i] = body[i]! ^ 0xff;
            res.end(body);
          } else {
            res.write(body.subarray(0, fault.bytes), () => res.socket?.destroy());
          }
        });
        return;
      }
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', (err) => {
      res.writeHead(502);
      res.end(String(err));
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  proxy.port = port;
  proxy.host = `127.0.0.1:${port}`;
  return proxy;
}
