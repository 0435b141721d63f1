import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../config/load-config.ts';
import { callbackUrl, checkDeliveryConfig } from './notifier-config.ts';

const bad: { name: string; yaml: string; message: RegExp }[] = [
  { name: 'webhook target not http', yaml: 'webhook:\n    target: ftp://hook/\n    callback: http://clair/n', message: /notifier\.webhook\.target must be a http or https URL, got scheme ftp/ },
  { name: 'webhook target not a URL', yaml: 'webhook:\n    target: hook\n    callback: http://clair/n', message: /notifier\.webhook\.target must be an absolute http or https URL, got "hook"/ },
  { name: 'webhook without target', yaml: 'webhook:\n    callback: http://clair/n', message: /notifier\.webhook\.target is required/ },
  { name: 'webhook callback not http', yaml: 'webhook:\n    target: http://hook/\n    callback: clair:6060', message: /notifier\.webhook\.callback must be a http or https URL/ },
  { name: 'amqp uri not amqp', yaml: 'amqp:\n    uris: [amqp://ok/, http://broker/]\n    callback: http://clair/n', message: /notifier\.amqp\.uris\[1\] must be a amqp or amqps URL, got scheme http/ },
  { name: 'amqp without uris', yaml: 'amqp:\n    callback: http://clair/n', message: /notifier\.amqp\.uris must list at least one/ },
  { name: 'amqp exchange type', yaml: 'amqp:\n    uris: [amqp://b/]\n    exchange:\n      type: fast', message: /notifier\.amqp\.exchange\.type must be direct, fanout, topic or headers/ },
  { name: 'amqp password not echoed', yaml: 'amqp:\n    uris: ["http://u:sekrit@b/"]', message: /u:\*\*\*@b/ },
  { name: 'stomp without destination', yaml: 'stomp:\n    uris: [b:61613]', message: /notifier\.stomp\.destination is required/ },
  { name: 'stomp without uris', yaml: 'stomp:\n    destination: /queue/x', message: /notifier\.stomp\.uris must list at least one broker/ },
  { name: 'stomp bad uri', yaml: 'stomp:\n    uris: ["http://b:1/"]\n    destination: /queue/x', message: /notifier\.stomp\.uris\[0\].*scheme http is not stomp/ },
  { name: 'zero delivery interval', yaml: 'delivery_interval: 0s', message: /notifier\.delivery_interval must be longer than 0s/ },
];

for (const c of bad) {
  test(`notifier config error: ${c.name}`, () => {
    assert.throws(() => parseConfig(`notifier:\n  ${c.yaml}\n`, 'test'), (e: Error) => {
      assert.match(e.message, c.message);
      assert.doesNotMatch(e.message, /sekrit/);
      return true;
    });
  });
}

test('notifier config: values and defaults', () => {
  const c = parseConfig('notifier:\n  poll_interval: 1m\n  amqp:\n    uris: amqps://b/\n    direct: true\n    exchange:\n      name: clair\n      durable: true\n', 'test').notifier;
  assert.equal(c.pollIntervalMs, 60_000);
  assert.equal(c.deliveryIntervalMs, 5 * 60_000);
  assert.deepEqual(c.amqp, { uris: ['amqps://b/'], exchange: { name: 'clair', type: 'direct', durable: true, autoDelete: false }, routingKey: '', callback: undefined, direct: true, rollup: 1 });
  checkDeliveryConfig(c); // direct needs no callback
  const w = parseConfig('notifier:\n  webhook:\n    target: http://hook/\n', 'test').notifier;
  assert.throws(() => checkDeliveryConfig(w), /notifier\.webhook\.callback is required/);
});

test('callback URLs join the base and the id with one slash', () => {
  for (const base of ['http://c/notifier/api/v1/notification', 'http://c/notifier/api/v1/notification/', 'http://c/notifier/api/v1/notification//']) {
    assert.equal(callbackUrl(base, 'abc'), 'http://c/notifier/api/v1/notification/abc');
  }
});
