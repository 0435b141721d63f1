// Where registry credentials come from, first match wins:
//   1. options (the CLI's --username / --password-stdin)
//   2. CLAIR_TS_REGISTRY_USERNAME / CLAIR_TS_REGISTRY_PASSWORD
//   3. the Docker client config ($DOCKER_CONFIG/config.json, else ~/.docker/config.json): auths[host].auth,
//      base64 "user:password", keyed as `docker login` writes it (Docker Hub as https://index.docker.io/v1/).
// Credentials travel only inside Credentials objects; `source` is what messages may name instead.
// Credential helpers (credsStore / credHelpers) are not run: an entry that needs one is reported in `note`.

import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ClairError } from '../../model/errors.ts';
import { DOCKER_HUB } from './reference.ts';

export interface Credentials {
  username: string;
  password: string;
  /** Safe to show: "options", "environment", "docker config /root/.docker/config.json". */
  source: string;
}

export interface CredentialOptions {
  username?: string;
  password?: string;
  dockerConfigPath?: string;
  env?: NodeJS.ProcessEnv;
}

// The keys `docker login` has written for Docker Hub over the years.
const DOCKER_HUB_KEYS = ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1', 'https://registry-1.docker.io'];

export function defaultDockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return env['DOCKER_CONFIG'] ? join(env['DOCKER_CONFIG'], 'config.json') : join(homedir(), '.docker', 'config.json');
}

/** Credentials for `registry` ("docker.io", "quay.io", "localhost:5000"), or undefined for anonymous access. */
export async function findCredentials(registry: string, opts: CredentialOptions = {}): Promise<Credentials | undefined> {
  const env = opts.env ?? process.env;
  if (opts.username !== undefined || opts.password !== undefined) {
    if (!opts.username || opts.password === undefined) throw new ClairError('bad-input', 'registry credentials from options need both a username and a password');
    return { username: opts.username, password: opts.password, source: 'options' };
  }
  const envUser = env['CLAIR_TS_REGISTRY_USERNAME'];
  const envPassword = env['CLAIR_TS_REGISTRY_PASSWORD'];
  if (envUser || envPassword) {
    if (!envUser || envPassword === undefined) throw new ClairError('bad-input', 'set both CLAIR_TS_REGISTRY_USERNAME and CLAIR_TS_REGISTRY_PASSWORD, or neither');
    return { username: envUser, password: envPassword, source: 'environment (CLAIR_TS_REGISTRY_USERNAME)' };
  }
  return fromDockerConfig(registry, opts.dockerConfigPath ?? defaultDockerConfigPath(env), opts.dockerConfigPath !== undefined);
}

async function fromDockerConfig(registry: string, path: string, explicit: boolean): Promise<Credentials | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    // The default file is often absent (anonymous pulls); one the user named must exist.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) return undefined;
    throw new ClairError(explicit ? 'not-found' : 'bad-input', `docker config ${path} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ClairError('bad-input', `docker config ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const auths = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>)['auths'] : undefined;
  if (typeof auths !== 'object' || auths === null) return undefined;
  const entries = auths as Record<string, unknown>;
  const key = Object.keys(entries).find((k) => matchesRegistry(k, registry));
  if (key === undefined) return undefined;
  const entry = entries[key];
  if (typeof entry !== 'object' || entry === null) return undefined;
  const e = entry as Record<string, unknown>;
  const source = `docker config ${path}`;
  if (typeof e['auth'] === 'string' && e['auth'] !== '') {
    const decoded = Buffer.from(e['auth'], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    // The message names the entry, never its content.
    if (colon <= 0) throw new ClairError('bad-input', `${source}: auths[${JSON.stringify(key)}].auth is not base64 of "user:password"`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
  }
  if (typeof e['username'] === 'string' && typeof e['password'] === 'string') return { username: e['username'], password: e['password'], source };
  return undefined;
}

/** Does a docker config auths key ("https://quay.io", "quay.io/v1/", "localhost:5000") name this registry? */
export function matchesRegistry(key: string, registry: string): boolean {
  if (registry === DOCKER_HUB) return DOCKER_HUB_KEYS.includes(key) || DOCKER_HUB_KEYS.includes(key.replace(/\/+$/, ''));
  const host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  return host.toLowerCase() === registry.toLowerCase();
}
