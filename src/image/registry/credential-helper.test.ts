import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ClairError } from '../../model/errors.ts';
import { getFromHelper, HELPER_NOT_FOUND_MESSAGE, type HelperAnswer } from './credential-helper.ts';
import { credentialsJson, fakeHelpers, type FakeAnswer, type FakeHelpers } from './testdata/fake-credential-helper.ts';

const SECRET = 's3cr3t-never-shown';
let helpers: FakeHelpers;
before(async () => {
  helpers = await fakeHelpers();
});
after(async () => helpers?.remove());

test('a helper is run as `docker-credential-<name> get` with the server URL on stdin', async () => {
  await helpers.clearCalls();
  await helpers.install('desktop', { out: credentialsJson('quay.io', 'quser', SECRET) });
  assert.deepEqual(await getFromHelper('desktop', 'quay.io', { env: helpers.env }), { username: 'quser', secret: SECRET });
  assert.deepEqual(await helpers.calls(), [{ name: 'desktop', args: 'get', server: 'quay.io' }]);
});

test('answers that mean "no credentials": anonymous, not an error', async () => {
  const cases: [string, FakeAnswer][] = [
    // What docker-credential-helpers print (stdout, status 1) for a server they hold nothing for.
    ['not found on stdout', { out: `${HELPER_NOT_FOUND_MESSAGE}\n`, exit: 1 }],
    ['not found on stderr', { err: `${HELPER_NOT_FOUND_MESSAGE}\n`, exit: 1 }],
    ['empty Username and Secret', { out: credentialsJson('quay.io', '', '') }],
  ];
  for (const [name, answer] of cases) {
    await helpers.install('none', answer);
    assert.equal(await getFromHelper('none', 'quay.io', { env: helpers.env }), undefined, name);
  }
});

test('failures are unauthorized errors naming the helper and the server, never the secret', async () => {
  const cases: [string, FakeAnswer, RegExp][] = [
    ['malformed JSON that contains the secret', { out: `user:${SECRET}` }, /did not print a JSON object/],
    ['JSON that is not an object', { out: `["${SECRET}"]` }, /JSON that is not an object/],
    ['Secret not a string', { out: '{"Username":"u","Secret":42}' }, /not a string/],
    ['a crash with its own error text', { err: 'error getting credentials: dbus unavailable\n', exit: 3 }, /exited with status 3: "error getting credentials: dbus unavailable"/],
    ['a crash without output', { exit: 1 }, /exited with status 1: no output/],
    ['a hang past the timeout', { sleepSeconds: 30 }, /did not answer within 0\.2 s/],
    ['an answer too long to be one', { out: 'x'.repeat(100_000) }, /printed more than/],
  ];
  for (const [name, answer, message] of cases) {
    await helpers.install('broken', answer);
    await assert.rejects(getFromHelper('broken', 'registry.example:5000', { env: helpers.env, timeoutMs: 200 }), (e: unknown) => {
      assert.ok(e instanceof ClairError && e.code === 'unauthorized', `${name}: ${String(e)}`);
      assert.match(e.message, /credential helper docker-credential-broken \(.*\) asked for registry\.example:5000/, name);
      assert.match(e.message, message, name);
      assert.doesNotMatch(e.message, new RegExp(SECRET), name);
      return true;
    });
  }
});

test('a helper that is not on PATH, or not executable there, is named in the error', async () => {
  await writeFile(join(helpers.dir, 'bin', 'docker-credential-noexec'), '#!/bin/sh\necho {}\n', { mode: 0o644 });
  await assert.rejects(getFromHelper('noexec', 'quay.io', { env: helpers.env }), /docker-credential-noexec \(for quay\.io\) was not found on PATH/);
  const envs: [string, NodeJS.ProcessEnv][] = [
    ['the test PATH', helpers.env],
    ['no PATH at all', {}],
    // Relative entries are skipped, so a helper is never taken from the working directory.
    ['a relative PATH entry', { PATH: '.' }],
  ];
  for (const [name, env] of envs) {
    await assert.rejects(getFromHelper('missing', 'quay.io', { env }), (e: unknown) => {
      assert.ok(e instanceof ClairError && e.code === 'unauthorized', `${name}: ${String(e)}`);
      assert.match(e.message, /docker-credential-missing \(for quay\.io\) was not found on PATH/, name);
      return true;
    });
  }
});

test('a helper name that is not a plain suffix is refused before anything runs', async () => {
  for (const name of ['../fake', 'a/b', '', '-x']) {
    await assert.rejects(getFromHelper(name, 'quay.io', { env: helpers.env }), (e: unknown) => e instanceof ClairError && e.code === 'bad-input', name);
  }
});

test('Username "<token>" is passed through for the caller to treat as an identity token', async () => {
  await helpers.install('idtoken', { out: credentialsJson('quay.io', '<token>', SECRET) });
  const answer: HelperAnswer | undefined = await getFromHelper('idtoken', 'quay.io', { env: helpers.env });
  assert.deepEqual(answer, { username: '<token>', secret: SECRET });
});
