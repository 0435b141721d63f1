// A real OCI distribution registry for tests: Debian's `docker-registry` package (the CNCF distribution
// registry v2), started on a free loopback port with a generated config in a temp dir (filesystem
// storage there, log to a file), optionally with htpasswd or token auth; images are pushed into it with
// skopeo. Tests skip with a clear message when the tools are absent, and fail instead when CI is set.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { fetchTrustingCa } from '../../src/image/registry/ca-fetch.ts';
import { freePort } from './free-port.ts';

const run = promisify(execFile);

export const REGISTRY_BIN = process.env['CLAIR_TS_DOCKER_REGISTRY'] ?? '/usr/bin/docker-registry';

function onPath(tool: string): boolean {
  return (process.env['PATH'] ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, tool)));
}

/**
 * Why registry tests cannot run here, or undefined when they can. Under CI the tools are mandatory:
 * this returns undefined so the test runs and fails on the missing tool rather than skipping.
 */
export function registrySkipReason(needs: { htpasswd?: boolean } = {}): string | undefined {
  if (process.env['CI']) return undefined;
  if (!existsSync(REGISTRY_BIN)) return `${REGISTRY_BIN} not found: apt-get install docker-registry (the CNCF distribution registry) to run registry tests`;
  if (!onPath('skopeo')) return 'skopeo not found: apt-get install skopeo to run registry tests';
  if (needs.htpasswd && !onPath('htpasswd')) return 'htpasswd not found: apt-get install apache2-utils to run registry auth tests';
  return undefined;
}

export { freePort };

export type RegistryAuthSetup =
  | { kind: 'htpasswd'; users: { username: string; password: string }[] }
  /** distribution's `auth: token:`; the test serves `realm` and signs tokens with the key of `rootCertBundle`. */
  | { kind: 'token'; realm: string; service: string; issuer: string; rootCertBundle: string };

export interface TestRegistry {
  /** "127.0.0.1:PORT" */
  host: string;
  url: string;
  dir: string;
  logPath: string;
  /** Pushes tag `tag` of the OCI layout `layoutDir` to `repo:destTag` (all platforms of an index). */
  push(layoutDir: string, tag: string, repo: string, destTag: string, creds?: { username: string; password: string }): Promise<void>;
  log(): Promise<string>;
  stop(): Promise<void>;
}

export interface RegistryTls {
  certificate: string;
  key: string;
  /** The CA that signed `certificate`, used to wait for start-up. */
  ca: string;
}

export async function startRegistry(opts: { auth?: RegistryAuthSetup; tls?: RegistryTls } = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'info', formatter: 'text', accesslog: { disabled: false } },
    storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true }, maintenance: { uploadpurging: { enabled: false } } },
    http: { addr: host, secret: randomBytes(16).toString('hex'), ...(opts.tls ? { tls: { certificate: opts.tls.certificate, key: opts.tls.key } } : {}) },
  };
  if (opts.auth?.kind === 'htpasswd') {
    const path = join(dir, 'htpasswd');
    const lines: string[] = [];
    for (const u of opts.auth.users) {
      // -B bcrypt (the only hash the registry accepts), -i password on stdin so it is not in argv.
      const { stdout } = await runWithInput('htpasswd', ['-niB', u.username], u.password);
      lines.push(stdout.trim());
    }
    await writeFile(path, lines.join('\n') + '\n');
    config['auth'] = { htpasswd: { realm: 'clair-ts-test', path } };
  } else if (opts.auth?.kind === 'token') {
    config['auth'] = { token: { realm: opts.auth.realm, service: opts.auth.service, issuer: opts.auth.issuer, rootcertbundle: opts.auth.rootCertBundle } };
  }
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, YAML.stringify(config));
  const logPath = join(dir, 'registry.log');
  const logFd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(REGISTRY_BIN, ['serve', configPath], { stdio: ['ignore', logFd, logFd] });
  } finally {
    closeSync(logFd);
  }
  let exited = false;
  child.once('exit', () => (exited = true));
  const stop = async (): Promise<void> => {
    if (!exited) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const probe = opts.tls ? await fetchTrustingCa(opts.tls.ca) : fetch;
    await waitForRegistry(`${opts.tls ? 'https' : 'http'}://${host}/v2/`, probe, () => exited, logPath);
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  return {
    host,
    url: `${opts.tls ? 'https' : 'http'}://${host}`,
    dir,
    logPath,
    async push(layoutDir, tag, repo, destTag, creds) {
      const args = ['copy', '--quiet', '--insecure-policy', '--all', '--preserve-digests', '--dest-tls-verify=false'];
      if (creds) args.push('--dest-creds', `${creds.username}:${creds.password}`);
      args.push(`oci:${layoutDir}:${tag}`, `docker://${host}/${repo}:${destTag}`);
      await run('skopeo', args, { env: { ...process.env, HOME: dir } });
    },
    log: () => readFile(logPath, 'utf8'),
    stop,
  };
}

// Bounded: 200 polls; the registry answers within a second on this machine.
async function waitForRegistry(url: string, probe: typeof fetch, exited: () => boolean, logPath: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (exited()) throw new Error(`docker-registry exited during start-up; log:\n${await readFile(logPath, 'utf8').catch(() => '')}`);
    try {
      const res = await probe(url);
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not answer ${url}; log:\n${await readFile(logPath, 'utf8').catch(() => '')}`);
}

function runWithInput(cmd: string, args: string[], input: string): Promise<{ stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, (err, stdout) => (err ? reject(err) : resolve({ stdout })));
    child.stdin?.end(input);
  });
}
