import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactUrl } from './redact-url.ts';
import { isUuid } from './uuid.ts';

test('redactUrl hides passwords and never echoes what it cannot parse', () => {
  assert.equal(redactUrl('postgres://u:pw@h/db'), 'postgres://u:***@h/db');
  assert.equal(redactUrl('amqp://guest:guest@127.0.0.1:5672'), 'amqp://guest:***@127.0.0.1:5672');
  assert.equal(redactUrl('https://example.test/hook'), 'https://example.test/hook');
  assert.equal(redactUrl('not a url with secret'), '(unparseable URL)');
});

test('isUuid accepts the canonical lower-case form only', () => {
  assert.equal(isUuid('5e4b387e-88d3-4364-86fd-063447a6fad2'), true);
  assert.equal(isUuid('5E4B387E-88D3-4364-86FD-063447A6FAD2'), false);
  assert.equal(isUuid('5e4b387e88d3436486fd063447a6fad2'), false);
});
