import { withIdleTimeout } from '../model/idle-timeout-fetch.ts';
import { ClairError, errorMessage } from '../model/errors.ts';
import type { Deliverer, NotificationCallback } from './deliverer.ts';
import { callbackUrl, type WebhookConfig } from './notifier-config.ts';
import { redactUrl } from '../model/redact-url.ts';
import type { RequestSigner } from './webhook-signer.ts';

// notifier.webhook: POST {notification_id, callback} as JSON to the target, signed when a PSK is configured
// (webhook-signer.ts); any 2xx answer is a delivery (Clair takes only 200; Quay answers 200).

const TIMEOUT_MS = 30_000;

export class WebhookDeliverer implements Deliverer {
  readonly name: string;
  readonly #target: string;
  readonly #callback: string;
  readonly #headers: Record<string, string>;
  readonly #fetch: typeof fetch;
  readonly #sign: RequestSigner | undefined;

  constructor(c: WebhookConfig & { callback: string }, opts: { fetch?: typeof fetch; sign?: RequestSigner } = {}) {
    this.#target = c.target;
    this.#callback = c.callback;
    // A header given several values is sent once, values joined as HTTP allows (RFC 9110 §5.3).
    this.#headers = Object.fromEntries(Object.entries(c.headers).map(([k, vs]) => [k, vs.join(', ')]));
    this.#fetch = withIdleTimeout(opts.fetch ?? fetch);
    this.#sign = opts.sign;
    this.name = `webhook ${redactUrl(c.target)}`;
  }

  async deliver(notificationId: string): Promise<void> {
    const body: NotificationCallback = { notification_id: notificationId, callback: callbackUrl(this.#callback, notificationId) };
    const headers: Record<string, string> = { ...this.#headers, 'content-type': 'application/json' };
    // A configured Authorization header is replaced by the signature, as the receiver verifies that one.
    if (this.#sign) {
      for (const k of Object.keys(headers)) if (k.toLowerCase() === 'authorization') delete headers[k];
      headers.authorization = await this.#sign();
    }
    let res: Response;
    try {
      res = await this.#fetch(this.#target, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
        redirect: 'manual',
      });
    } catch (e) {
      throw new ClairError('unavailable', `webhook ${redactUrl(this.#target)} for notification ${notificationId}: ${errorMessage(e)}`, { cause: e });
    }
    await res.body?.cancel();
    if (res.status < 200 || res.status > 299) {
      throw new ClairError('unavailable', `webhook ${redactUrl(this.#target)} answered ${res.status} for notification ${notificationId}`);
    }
  }

  async close(): Promise<void> {}
}
