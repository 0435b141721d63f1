import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClairError } from '../../model/errors.ts';
import { backoffDelay, DEFAULT_RETRY, displayUrl, HttpTransport, parseRetryAfter } from './http-transport.ts';
import { plainHttpAllowed } from './plain-http.ts';

test('parseRetryAfter: seconds, HTTP-date, junk', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  const cases: [string | null, number | undefined][] = [
    ['0', 0],
    ['12', 12_000],
    ['Wed, 01 Jan 2025 00:00:30 GMT', 30_000],
    ['Tue, 31 Dec 2024 23:00:00 GMT', 0],
    ['soon', undefined],
    [null, undefined],
    ['', undefined],
  ];
  for (const [value, ms] of cases) assert.equal(parseRetryAfter(value, now), ms, String(value));
});

test('backoffDelay: full jitter under an exponential, capped ceiling', () => {
  const p = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
  const cases: [number, number, number][] = [
    [0, 0.5, 50],
    [1, 0.5, 100],
    [3, 0.999, 799],
    [6, 0.5, 500], // capped at maxDelayMs
    [2, 0, 0],
  ];
  for (const [attempt, r, ms] of cases) assert.equal(backoffDelay(attempt, p, () => r), ms, `attempt ${attempt}`);
});

test('displayUrl drops query strings and user-info', () => {
  assert.equal(displayUrl('https://u:p@s3.example/bucket/blob?X-Amz-Signature=secret'), 'https://s3.example/bucket/blob');
});

test('plainHttpAllowed: loopback by default, named registries, nothing else', () => {
  const cases: [string, boolean | string[] | undefined, boolean][] = [
    ['localhost:5000', undefined, true],
    ['127.0.0.1:5000', undefined, true],
    ['127.8.9.1', undefined, true],
    ['[::1]:5000', undefined, true],
    ['registry.local:5000', undefined, false],
    ['registry.local:5000', ['registry.local:5000'], true],
    ['registry.local:5000', ['registry.local'], true],
    ['registry.local:5000', ['registry.local:5001'], false],
    ['registry.local', ['http://registry.local/'], true],
    ['quay.io', true, true],
    ['quay.io', false, false],
    ['128.0.0.1', undefined, false],
  ];
  for (const [host, insecure, allowed] of cases) assert.equal(plainHttpAllowed(host, insecure), allowed, `${host} ${JSON.stringify(insecure)}`);
});

// A scripted fetch: each call takes the next answer and records what was sent.
function scripted(answers: (Response | Error)[]): { fetch: typeof fetch; calls: { url: string; headers: Record<string, string> }[] } {
  const calls: { url: string; headers: Record<string, string> }[] = [];
  const f = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
    calls.push({ url: String(input), headers });
    const next = answers.shift();
    if (next === undefined) throw new Error('no more scripted answers');
    if (next instanceof Error) throw next;
    return next;
  };
  return { fetch: f as typeof fetch, calls };
}

function reset(): Error {
  return new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
}

test('HttpTransport retries 429/5xx/resets with the waits it computes, honouring Retry-After', async () => {
  const { fetch, calls } = scripted([new Response('', { status: 429, headers: { 'retry-after': '3' } }), reset(), new Response('', { status: 502 }), new Response('ok')]);
  const waits: number[] = [];
  const t = new HttpTransport({ fetch, sleep: async (ms) => void waits.push(ms) });
  const res = await t.request('https://r.example/v2/', {}, 'ping');
  assert.equal(await res.text(), 'ok');
  assert.equal(calls.length, 4);
  assert.equal(waits.length, 3);
  assert.ok(waits[0]! >= 3000, `Retry-After honoured: ${waits[0]}`);
  assert.ok(waits.every((w) => w <= Math.max(3000, DEFAULT_RETRY.maxDelayMs)));
});

test('HttpTransport gives up after the bounded attempts, and does not retry 404 or refused connections', async () => {
  const five = scripted(Array.from({ length: 5 }, () => new Response('', { status: 500 })));
  await assert.rejects(new HttpTransport({ fetch: five.fetch, sleep: async () => {} }).request('https://r.example/x?sig=secret', {}, 'manifest m'), (e: unknown) => {
    assert.ok(e instanceof ClairError && e.code === 'unavailable');
    assert.match(e.message, /^manifest m: https:\/\/r\.example\/x failed 5 times; last: HTTP 500$/);
    return true;
  });
  assert.equal(five.calls.length, 5);
  const notFound = scripted([new Response('', { status: 404 })]);
  assert.equal((await new HttpTransport({ fetch: notFound.fetch }).request('https://r.example/x', {}, 'x')).status, 404);
  const refused = scripted([new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) })]);
  await assert.rejects(new HttpTransport({ fetch: refused.fetch }).request('https://r.example/x', {}, 'x'), /cannot reach https:\/\/r\.example\/x: connect ECONNREFUSED/);
  assert.equal(refused.calls.length, 1);
});

test('redirects: Authorization kept on the same origin, dropped on another', async () => {
  const { fetch, calls } = scripted([
    new Response(null, { status: 307, headers: { location: '/v2/a/blobs/other' } }),
    new Response(null, { status: 302, headers: { location: 'https://storage.example/blob?sig=1' } }),
    new Response('bytes'),
  ]);
  const res = await new HttpTransport({ fetch }).request('https://r.example/v2/a/blobs/d', { headers: { authorization: 'Bearer t', accept: '*/*' } }, 'blob');
  assert.equal(await res.text(), 'bytes');
  assert.deepEqual(
    calls.map((c) => [c.url, c.headers['authorization'], c.headers['accept']]),
    [
      ['https://r.example/v2/a/blobs/d', 'Bearer t', '*/*'],
      ['https://r.example/v2/a/blobs/other', 'Bearer t', '*/*'],
      ['https://storage.example/blob?sig=1', undefined, '*/*'],
    ],
  );
});
