// Where registry credentials come from, first match wins:
//   1. options (the CLI's --username / --password-stdin)
//   2. CLAIR_TS_REGISTRY_USERNAME / CLAIR_TS_REGISTRY_PASSWORD
//   3. the Docker client config ($DOCKER_CONFIG/config.json, else ~/.docker/config.json), as docker reads it
//      (cli/config/configfile.GetCredentialsStore): credHelpers[host], else credsStore, else auths[host].
//      A helper is run as `docker-credential-<name> get` (credential-helper.ts) and, like docker, is the
//      only answer once configured: "not found" from it means anonymous, without falling back to auths.
//      auths[host].auth is base64 "user:password", keyed as `docker login` writes it.
//      Docker Hub is asked for and found under https://index.docker.io/v1/.
//      Limitation: an identity token (helper Username "<token>") is sent as a password; see fromHelper.
// Credentials travel only inside Credentials objects; `source` is what messages may name instead.

import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ClairError } from '../../model/errors.ts';
import { getFromHelper, helperProgram, IDENTITY_TOKEN_USERNAME } from './credential-helper.ts';
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
  /** Also the environment (and PATH) credential helpers run with. */
  env?: NodeJS.ProcessEnv;
  /** How long a credential helper may take; default 10 s. */
  helperTimeoutMs?: number;
}

/** The server URL docker stores and asks Docker Hub credentials under (registry.IndexServer). */
const DOCKER_HUB_SERVER_URL = 'https://index.docker.io/v1/';
// The keys `docker login` has written for Docker Hub over the years.
const DOCKER_HUB_KEYS = ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1', 'https://registry-1.docker.io'];

function defaultDockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
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
  const path = opts.dockerConfigPath ?? defaultDockerConfigPath(env);
  const doc = await readDockerConfig(path, opts.dockerConfigPath !== undefined);
  if (doc === undefined) return undefined;
  const helper = helperFor(doc, registry, path);
  if (helper !== undefined) return fromHelper(helper.name, registry, `${helper.setting} in ${path}`, env, opts.helperTimeoutMs);
  return fromAuths(doc, registry, path);
}

/** The credential helper docker would use for `registry`: credHelpers[host] first, then credsStore. */
function helperFor(doc: Record<string, unknown>, registry: string, path: string): { name: string; setting: string } | undefined {
  const helpers = doc['credHelpers'];
  if (helpers !== undefined && helpers !== null) {
    if (typeof helpers !== 'object' || Array.isArray(helpers)) throw new ClairError('bad-input', `docker config ${path}: credHelpers is not an object`);
    const entries = helpers as Record<string, unknown>;
    const key = Object.keys(entries).find((k) => matchesRegistry(k, registry));
    if (key !== undefined) {
      const name = entries[key];
      if (typeof name !== 'string') throw new ClairError('bad-input', `docker config ${path}: credHelpers[${JSON.stringify(key)}] is not a string`);
      // docker ignores an empty helper name, and so do we.
      if (name !== '') return { name, setting: `credHelpers[${JSON.stringify(key)}]` };
    }
  }
  const store = doc['credsStore'];
  if (store !== undefined && store !== null && typeof store !== 'string') throw new ClairError('bad-input', `docker config ${path}: credsStore is not a string`);
  if (typeof store === 'string' && store !== '') return { name: store, setting: 'credsStore' };
  return undefined;
}

async function fromHelper(name: string, registry: string, where: string, env: NodeJS.ProcessEnv, timeoutMs: number | undefined): Promise<Credentials | undefined> {
  // docker asks helpers for Docker Hub under its historical index URL and for anything else by host[:port].
  const serverUrl = registry === DOCKER_HUB ? DOCKER_HUB_SERVER_URL : registry;
  const answer = await getFromHelper(name, serverUrl, { env, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  if (answer === undefined) return undefined;
  // Username "<token>" means Secret is an identity token, an OAuth2 refresh token that docker trades at the
  // token service with POST grant_type=refresh_token. The registry client only sends Basic credentials
  // (GET token requests), so the token goes as the password; registries that accept only the OAuth2
  // exchange refuse it, and the source says why in that message.
  const program = helperProgram(name);
  if (answer.username === IDENTITY_TOKEN_USERNAME) {
    return { username: answer.username, password: answer.secret, source: `${program} (${where}; an identity token, sent as a password since the OAuth2 refresh-token exchange is not supported)` };
  }
  return { username: answer.username, password: answer.secret, source: `${program} (${where})` };
}

async function readDockerConfig(path: string, explicit: boolean): Promise<Record<string, unknown> | undefined> {
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
  return typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>) : undefined;
}

function fromAuths(doc: Record<string, unknown>, registry: string, path: string): Credentials | undefined {
  const auths = doc['auths'];
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
