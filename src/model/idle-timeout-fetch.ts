// Every outgoing HTTP exchange (registries, layer URIs, feeds, webhooks) goes through an idle timeout: a server that
// accepts the connection and then stops sending — before the headers or in the middle of a body — fails the request
// after `idleMs` without a byte, instead of holding a socket (and the index request waiting on it) for an hour.
// The failure is an ETIMEDOUT network error, which the registry transport retries (a blob resumes with Range) a
// bounded number of times.

/** Without a byte for this long, an exchange is given up. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/** CLAIR_TS_IDLE_TIMEOUT ("90s", "500ms", "2m") when set and readable, else DEFAULT_IDLE_TIMEOUT_MS. */
export function defaultIdleTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(env.CLAIR_TS_IDLE_TIMEOUT ?? '');
  if (!m) return DEFAULT_IDLE_TIMEOUT_MS;
  const ms = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
  return ms > 0 ? ms : DEFAULT_IDLE_TIMEOUT_MS;
}

export function idleTimeoutError(ms: number, url: string): Error {
  let where = url;
  try {
    const u = new URL(url);
    where = `${u.protocol}//${u.host}${u.pathname}`; // no query: pre-signed URLs carry credentials there
  } catch {
    where = '(malformed URL)';
  }
  return Object.assign(new Error(`no data from ${where} for ${Math.round(ms / 100) / 10} s (idle timeout)`), { code: 'ETIMEDOUT' });
}

/** `f` with an idle timeout over the wait for headers and every gap between body chunks. */
export function withIdleTimeout(f: typeof fetch, idleMs: number = defaultIdleTimeoutMs()): typeof fetch {
  const wrapped = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(idleTimeoutError(idleMs, url)), idleMs);
    };
    const disarm = () => clearTimeout(timer);
    const signal = init?.signal ? AbortSignal.any([init.signal, controller.signal]) : controller.signal;
    arm();
    let res: Response;
    try {
      res = await f(input, { ...init, signal });
    } catch (e) {
      disarm();
      throw controller.signal.aborted && !init?.signal?.aborted ? controller.signal.reason : e;
    }
    if (!res.body) {
      disarm();
      return res;
    }
    arm();
    const reader = res.body.getReader();
    // One promise for the whole body (a listener per chunk would pile up over a large layer).
    const aborted = new Promise<never>((_, reject) => {
      if (controller.signal.aborted) reject(controller.signal.reason);
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    aborted.catch(() => {});
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        try {
          const { done, value } = await Promise.race([reader.read(), aborted]);
          if (done) {
            disarm();
            c.close();
            return;
          }
          arm();
          c.enqueue(value);
        } catch (e) {
          disarm();
          reader.cancel(e).catch(() => {});
          c.error(e);
        }
      },
      cancel(reason) {
        // The reader (fetch's body) releases the connection; a cancel never fails the caller.
        disarm();
        return reader.cancel(reason).catch(() => {});
      },
    });
    const out = new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
    Object.defineProperty(out, 'url', { value: res.url });
    return out;
  };
  return wrapped as typeof fetch;
}
