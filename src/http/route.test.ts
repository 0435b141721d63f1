import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { registerRoutes } from './route.ts';

test('each request gets the media type its own Accept negotiates, whatever was asked before and however many values were seen', async () => {
  const app = Fastify();
  registerRoutes(app, [{ method: 'GET', url: '/r', produces: 'application/vnd.clair.thing.v1+json', handler: async (req) => ({ status: 200, body: { accepts: req.accepts } }) }], { timeoutMs: 1000 });
  const ask = async (accept?: string) => {
    const res = await app.inject({ method: 'GET', url: '/r', headers: accept === undefined ? {} : { accept } });
    return res.statusCode === 200 ? (res.json() as { accepts: string }).accepts : res.statusCode;
  };
  try {
    for (let round = 0; round < 2; round++) {
      assert.equal(await ask(), 'application/vnd.clair.thing.v1+json');
      assert.equal(await ask('application/json'), 'application/json');
      assert.equal(await ask('text/html'), 415);
      assert.equal(await ask('*/*'), 'application/vnd.clair.thing.v1+json');
      assert.equal(await ask('text/html;q=1, application/json;q=0.5'), 'application/json');
    }
    // More distinct values than the route keeps: every answer still its own.
    for (let i = 0; i < 200; i++) assert.equal(await ask(`application/x-${i}, application/json;q=0.${(i % 9) + 1}`), 'application/json');
    assert.equal(await ask('text/html'), 415);
    assert.equal(await ask(), 'application/vnd.clair.thing.v1+json');
  } finally {
    await app.close();
  }
});
