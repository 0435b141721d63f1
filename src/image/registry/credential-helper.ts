// The Docker credential-helper protocol, client side (github.com/docker/docker-credential-helpers,
// client/client.go): run `docker-credential-<name> get`, write the server URL to its stdin, read
// {"ServerURL","Username","Secret"} from its stdout. A helper that has nothing for the server exits
// non-zero printing "credentials not found in native keychain"; that is an answer (no credentials), not a
// failure. The secret never leaves the returned object: messages name the helper and the server only.

import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { ClairError } from '../../model/errors.ts';

/** What the helpers print when they hold nothing for the server (credentials.errCredentialsNotFoundMessage). */
export const HELPER_NOT_FOUND_MESSAGE = 'credentials not found in native keychain';
/** The Username a helper returns when Secret is an identity token (an OAuth2 refresh token), not a password. */
export const IDENTITY_TOKEN_USERNAME = '<token>';
const DEFAULT_HELPER_TIMEOUT_MS = 10_000;
// A helper prints one small JSON object; more than this is not a helper answer.
const MAX_OUTPUT_BYTES = 64 * 1024;
// How much of a failing helper's own error text a message quotes.
const MAX_QUOTED_CHARS = 200;

export interface HelperAnswer {
  username: string;
  secret: string;
}

export interface HelperOptions {
  /** The helper's environment, and PATH to find it on; default process.env. */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export function helperProgram(name: string): string {
  return `docker-credential-${name}`;
}

/**
 * Asks helper `name` for the credentials of `serverUrl` ("quay.io", "https://index.docker.io/v1/").
 * Undefined when the helper has none; ClairError 'unauthorized' when it cannot answer.
 */
export async function getFromHelper(name: string, serverUrl: string, opts: HelperOptions = {}): Promise<HelperAnswer | undefined> {
  const program = helperProgram(name);
  // The name comes from a config file and becomes part of a program name: it must not walk the file system.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new ClairError('bad-input', `credential helper name ${JSON.stringify(name)} is not a plain program suffix (docker-credential-<name>)`);
  const env = opts.env ?? process.env;
  const path = await findOnPath(program, env['PATH']);
  if (path === undefined) {
    throw new ClairError('unauthorized', `credential helper ${program} (for ${serverUrl}) was not found on PATH; install it, or remove it from the docker config (credsStore / credHelpers)`);
  }
  const run = await runHelper(path, serverUrl, env, opts.timeoutMs ?? DEFAULT_HELPER_TIMEOUT_MS);
  const what = `credential helper ${program} (${path}) asked for ${serverUrl}`;
  if (run.timedOut) throw new ClairError('unauthorized', `${what} did not answer within ${(opts.timeoutMs ?? DEFAULT_HELPER_TIMEOUT_MS) / 1000} s`);
  if (run.overflow) throw new ClairError('unauthorized', `${what} printed more than ${MAX_OUTPUT_BYTES} bytes, which is not a credential answer`);
  if (run.code !== 0) {
    const said = `${run.stdout}\n${run.stderr}`.trim();
    if (said.includes(HELPER_NOT_FOUND_MESSAGE)) return undefined;
    // On failure a helper prints its error, not credentials, so its words can be quoted (as docker does).
    const quoted = said === '' ? 'no output' : JSON.stringify(said.length > MAX_QUOTED_CHARS ? `${said.slice(0, MAX_QUOTED_CHARS)}…` : said);
    const status = run.signal !== null ? `was killed by ${run.signal}` : `exited with status ${run.code}`;
    throw new ClairError('unauthorized', `${what} ${status}: ${quoted}`);
  }
  return parseAnswer(run.stdout, what);
}

/** The helper's stdout on success. Its text is never quoted: a malformed answer may still hold the secret. */
function parseAnswer(stdout: string, what: string): HelperAnswer | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new ClairError('unauthorized', `${what} did not print a JSON object {"ServerURL","Username","Secret"} (${Buffer.byteLength(stdout)} bytes of output)`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ClairError('unauthorized', `${what} printed JSON that is not an object`);
  const d = doc as Record<string, unknown>;
  const username = d['Username'] ?? '';
  const secret = d['Secret'] ?? '';
  if (typeof username !== 'string' || typeof secret !== 'string') throw new ClairError('unauthorized', `${what} printed Username or Secret that is not a string`);
  // docker treats an empty answer like "not found": nothing to log in with.
  if (username === '' && secret === '') return undefined;
  return { username, secret };
}

// Like Go's exec.LookPath as docker uses it, minus the current directory: empty and relative PATH
// entries are skipped, so a helper is never picked up from wherever the scanner happens to run.
async function findOnPath(program: string, pathVar: string | undefined): Promise<string | undefined> {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const candidate = join(dir, program);
    try {
      await access(candidate, constants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here, or not executable: keep looking, as a shell would
    }
  }
  return undefined;
}

interface HelperRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  overflow: boolean;
}

function runHelper(path: string, serverUrl: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<HelperRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, ['get'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let bytes = 0;
    let timedOut = false;
    let overflow = false;
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), timedOut, overflow });
    };
    // A helper that forked something holding its pipes open would keep 'close' from ever firing; after a
    // kill we stop waiting for the pipes.
    const stop = (): void => {
      child.kill('SIGKILL');
      child.stdout.destroy();
      child.stderr.destroy();
      finish(null, 'SIGKILL');
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, timeoutMs);
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_OUTPUT_BYTES) {
        overflow = true;
        stop();
        return;
      }
      into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.once('error', (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new ClairError('unauthorized', `credential helper ${path} could not be started: ${e.message}`, { cause: e }));
    });
    child.once('close', (code, signal) => finish(code, signal));
    // A helper may exit without reading its input (EPIPE); its exit status and output tell what happened.
    child.stdin.on('error', () => {});
    child.stdin.end(serverUrl);
  });
}
