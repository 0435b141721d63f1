import { randomUUID } from 'node:crypto';
import { ClairError, errorMessage } from '../model/errors.ts';
import type { Store } from '../store/store.ts';
import type { Deliverer, NotificationCallback } from './deliverer.ts';
import { callbackUrl, type StompConfig } from './notifier-config.ts';
import { StompConnection, stompAddress } from './stomp-client.ts';

// notifier.stomp, as Clair's notifier/stomp: a connection per delivery to the first of notifier.stomp.uris that
// answers, then
//   callback mode: one SEND of {"notification_id", "callback"} (as the webhook), content-type application/json;
//   direct mode:   inside a STOMP transaction, SENDs of arrays of at most `rollup` notifications, then COMMIT;
// each frame with a receipt: a set counts as delivered only when the broker acknowledged all of it. Messages are
// marked persistent (RabbitMQ keeps them across its restarts).

export class StompDeliverer implements Deliverer {
  readonly name: string;
  readonly #c: StompConfig;
  readonly #store: Store;

  constructor(c: StompConfig, store: Store) {
    this.#c = c;
    this.#store = store;
    this.name = `stomp ${JSON.stringify(c.destination)}`;
  }

  async #connect(): Promise<StompConnection> {
    const failures: string[] = [];
    for (const uri of this.#c.uris) {
      try {
        return await StompConnection.connect(stompAddress(uri), { ...(this.#c.login !== undefined ? { login: this.#c.login } : {}), ...(this.#c.passcode !== undefined ? { passcode: this.#c.passcode } : {}) });
      } catch (e) {
        failures.push(`${uri}: ${errorMessage(e)}`);
      }
    }
    throw new ClairError('unavailable', `no STOMP broker of notifier.stomp.uris accepted a connection: ${failures.join('; ')}`);
  }

  async deliver(notificationId: string): Promise<void> {
    const conn = await this.#connect();
    const headers = { persistent: 'true', 'notification-id': notificationId };
    try {
      if (!this.#c.direct) {
        const body: NotificationCallback = { notification_id: notificationId, callback: callbackUrl(this.#c.callback!, notificationId) };
        await conn.send(this.#c.destination, JSON.stringify(body), headers);
        return;
      }
      const tx = randomUUID();
      await conn.begin(tx);
      let after: string | undefined;
      for (;;) {
        const page = await this.#store.getNotificationPage(notificationId, this.#c.rollup, after);
        if (!page) break; // deleted meanwhile: nothing (more) to deliver
        if (page.notifications.length > 0) await conn.send(this.#c.destination, JSON.stringify(page.notifications), { ...headers, transaction: tx });
        if (!page.next) break;
        after = page.next;
      }
      await conn.commit(tx);
    } catch (e) {
      throw new ClairError('unavailable', `${this.name}: delivering notification ${notificationId} failed: ${errorMessage(e)}`, { cause: e });
    } finally {
      await conn.close();
    }
  }

  async close(): Promise<void> {}
}
