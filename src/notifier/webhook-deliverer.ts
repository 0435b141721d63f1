import { ClairError, errorMessage } from '../model/errors.ts';
import type { Deliverer, NotificationCallback } from './deliverer.ts';
import { callbackUrl, type WebhookConfig } from './notifier-config.ts';
import { redactUrl } from '../model/redact-url.ts';

// notifier.webhook: POST {notification_id, callback} as JSON to the target; any 2xx answer is a delivery.

const TIMEOUT_MS = 30_000;

export class WebhookDeliverer implements Deliverer {
  readonly name: string;
  readonly #target: string;
  readonly #callback: string;
  readonly #headers: Record<string, string>;
  readonly #fetch: typeof fetch;

  constructor(c: WebhookConfig & { callback: string }, opts: { fetch?: typeof fetch } = {}) {
    this.#target = c.target;
    this.#callback = c.callback;
    // A header given several values is sent once, values joined as HTTP allows (RFC 9110 §5.3).
    this.#headers = Object.fromEntries(Object.entries(c.headers).map(([k, vs]) => [k, vs.join(', ')]));
    this.#fetch = opts.fetch ?? fetch;
    this.name = `webhook ${redactUrl(c.target)}`;
  }

  async deliver(notificationId: string): Promise<void> {
    const body: NotificationCallback = { notification_id: notificationId, callback: callbackUrl(this.#callback, notificationId) };
    let res: Response;
    try {
      res = await this.#fetch(this.#target, {
        method: 'POST',
        headers: { ...this.#headers, 'content-type': 'application/json' },
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
