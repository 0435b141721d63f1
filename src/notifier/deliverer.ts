// A deliverer tells one receiver that a notification set exists. deliver resolves only when the receiver confirmed
// (a 2xx answer, a broker's publisher confirm) and throws otherwise; the delivery loop (notifier.ts) then retries
// later. Receivers see a set at least once, possibly more (a crash between confirm and record): they must tolerate
// repeats, keyed by notification_id.

export interface Deliverer {
  /** For logs: "webhook http://…", "amqp exchange x". */
  readonly name: string;
  deliver(notificationId: string): Promise<void>;
  close(): Promise<void>;
}

/** The webhook body and the AMQP callback message (notification_webhook.schema.json). */
export interface NotificationCallback {
  notification_id: string;
  callback: string;
}
