import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { ClairError, errorMessage } from '../model/errors.ts';
import { configSpec, envName, type FieldSpec, type Spec } from './config-schema.ts';
import { parseDuration } from './duration.ts';
import { parseNotifierConfig, type NotifierConfig } from '../notifier/notifier-config.ts';

// Reads the YAML config, applies CLAIR_TS_* environment overrides (see config-schema.ts for the rule) and
// validates the result against configSpec. Every problem is reported with the key that caused it and where it
// came from (file or environment variable), before anything starts.

export type PinoLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface ServeConfig {
  httpListenAddr: string;
  introspectionAddr: string;
  logLevel: PinoLevel;
  indexer: {
    connstring?: string;
    layerScanConcurrency: number;
    allowFileUris: boolean;
    allowPrivateAddresses: boolean;
    /** indexer.scanner.repo.rhel-repository-scanner.repo2cpe_mapping_file (see ecosystem-options.ts). */
    rhelRepositoryCpeMappingFile?: string;
  };
  matcher: { connstring?: string; indexerAddr?: string; periodMs: number; disableUpdaters: boolean; updateRetention: number };
  /** sets: undefined = every updater. locations: updater name → feed location given in the config. */
  updaters: { sets?: string[]; locations: Record<string, string> };
  notifier: NotifierConfig;
  auth: { psk?: { key: Uint8Array; issuers: string[] } };
  http: { bodyLimit: number; requestTimeoutMs: number };
}

type Tree = Record<string, unknown>;

/** Loads `file` (optional: defaults alone when absent) and the environment into a validated config. */
export async function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<ServeConfig> {
  let text = '';
  if (file !== undefined) {
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new ClairError('bad-input', `config ${file} cannot be read: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`, { cause: e });
    }
  }
  return parseConfig(text, file ?? '(defaults)', env);
}

/** The same from YAML text; `source` names it in messages. */
export function parseConfig(text: string, source: string, env: NodeJS.ProcessEnv = {}): ServeConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new ClairError('bad-input', `config ${source} is not valid YAML: ${errorMessage(e)}`, { cause: e });
  }
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ClairError('bad-input', `config ${source}: the top level must be a mapping of keys`);
  const tree = validate(configSpec, raw, [], `config ${source}`) as Tree;
  applyEnv(configSpec, tree, [], env);
  return toServeConfig(tree, source);
}

function keyOf(path: readonly string[]): string {
  return path.length === 0 ? '(top level)' : path.join('.');
}

function bad(where: string, path: readonly string[], what: string): ClairError {
  return new ClairError('bad-input', `${where}: ${keyOf(path)} ${what}`);
}

/** Checks a YAML value against the spec and returns it normalized (durations in ms, base64 decoded later). */
function validate(spec: Spec, value: unknown, path: string[], where: string): unknown {
  if (value === null || value === undefined) return undefined;
  switch (spec.kind) {
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) throw bad(where, path, `must be a mapping of keys, got ${describe(value)}`);
      const out: Tree = {};
      const unknown: string[] = [];
      for (const [k, v] of Object.entries(value as Tree)) {
        const child = spec.fields[k];
        if (!child) {
          unknown.push([...path, k].join('.'));
          continue;
        }
        const nv = validate(child, v, [...path, k], where);
        if (nv !== undefined) out[k] = nv;
      }
      if (unknown.length > 0) {
        throw new ClairError('bad-input', `${where}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known here: ${Object.keys(spec.fields).join(', ')})`);
      }
      return out;
    }
    case 'map': {
      if (typeof value !== 'object' || Array.isArray(value)) throw bad(where, path, `must be a mapping of names, got ${describe(value)}`);
      const out: Tree = {};
      for (const [k, v] of Object.entries(value as Tree)) {
        const nv = validate(spec.value, v, [...path, k], where);
        if (nv !== undefined) out[k] = nv;
      }
      return out;
    }
    default:
      return leaf(spec, value, path, where);
  }
}

function leaf(spec: FieldSpec, value: unknown, path: string[], where: string): unknown {
  switch (spec.kind) {
    case 'string':
      if (typeof value !== 'string') throw bad(where, path, `must be a string, got ${describe(value)}`);
      return value;
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw bad(where, path, `must be an integer, got ${describe(value)}`);
      if (value < spec.min) throw bad(where, path, `must be at least ${spec.min}, got ${value}`);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw bad(where, path, `must be true or false, got ${describe(value)}`);
      return value;
    case 'duration':
      if (typeof value !== 'string') throw bad(where, path, `must be a duration string such as "30m" or "6h", got ${describe(value)}`);
      try {
        return parseDuration(value, keyOf(path));
      } catch (e) {
        throw new ClairError('bad-input', `${where}: ${errorMessage(e)}`);
      }
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) throw bad(where, path, `must be one of ${spec.values.join(', ')}, got ${describe(value)}`);
      return value;
    case 'list': {
      // A single string is a one-element list: `iss: quay` reads as naturally as `iss: [quay]`.
      const arr = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(arr) || !arr.every((x) => typeof x === 'string')) throw bad(where, path, `must be a list of strings, got ${describe(value)}`);
      return arr;
    }
    case 'base64':
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(value.trim())) throw bad(where, path, `must be a base64 string, got ${typeof value === 'string' ? 'text that is not base64' : describe(value)}`);
      if (Buffer.from(value.trim(), 'base64').length === 0) throw bad(where, path, 'must not be empty');
      return value.trim();
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Environment text → a YAML-like value, then the same validation as the file. */
function fromEnv(spec: FieldSpec, text: string, path: string[], name: string): unknown {
  let v: unknown = text;
  if (spec.kind === 'int') v = /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text;
  if (spec.kind === 'bool') v = /^(true|1|yes)$/i.test(text.trim()) ? true : /^(false|0|no)$/i.test(text.trim()) ? false : text;
  if (spec.kind === 'list') v = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return leaf(spec, v, path, `environment ${name}`);
}

function applyEnv(spec: Spec, tree: Tree, path: string[], env: NodeJS.ProcessEnv): void {
  if (spec.kind !== 'object') return;
  for (const [k, child] of Object.entries(spec.fields)) {
    const p = [...path, k];
    if (child.kind === 'object') {
      const sub = (tree[k] as Tree | undefined) ?? {};
      applyEnv(child, sub, p, env);
      if (Object.keys(sub).length > 0) tree[k] = sub;
    } else if (child.kind === 'map') {
      applyMapEnv(child, tree, k, p, env);
    } else {
      const name = envName(p);
      const text = env[name];
      if (text !== undefined && text !== '') tree[k] = fromEnv(child, text, p, name);
    }
  }
}

/** CLAIR_TS_<MAP PATH>_<ENTRY NAME>_<FIELD>: the entry name is everything between, lower-cased. */
function applyMapEnv(spec: Extract<Spec, { kind: 'map' }>, tree: Tree, k: string, p: string[], env: NodeJS.ProcessEnv): void {
  const prefix = envName(p) + '_';
  const leaves: [string, FieldSpec, string[]][] =
    spec.value.kind === 'object'
      ? Object.entries(spec.value.fields).flatMap(([f, s]) => (s.kind === 'object' || s.kind === 'map' ? [] : [[`_${envName([f]).slice('CLAIR_TS_'.length)}`, s, [f]] as [string, FieldSpec, string[]]]))
      : spec.value.kind === 'map'
        ? []
        : [['', spec.value, []]];
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith(prefix) || text === undefined || text === '') continue;
    const rest = name.slice(prefix.length);
    for (const [suffix, fieldSpec, fieldPath] of leaves) {
      if (suffix !== '' && (!rest.endsWith(suffix) || rest.length === suffix.length)) continue;
      const entry = (suffix === '' ? rest : rest.slice(0, -suffix.length)).toLowerCase();
      const map = ((tree[k] as Tree | undefined) ?? {}) as Tree;
      const value = fromEnv(fieldSpec, text, [...p, entry, ...fieldPath], name);
      if (fieldPath.length === 0) map[entry] = value;
      else map[entry] = { ...((map[entry] as Tree | undefined) ?? {}), [fieldPath[0]!]: value };
      tree[k] = map;
      break;
    }
  }
}

function get(tree: Tree, path: string): unknown {
  let cur: unknown = tree;
  for (const k of path.split('.')) cur = cur && typeof cur === 'object' ? (cur as Tree)[k] : undefined;
  return cur;
}

function dflt<T>(tree: Tree, path: string): T {
  const v = get(tree, path);
  if (v !== undefined) return v as T;
  let spec: Spec = configSpec;
  for (const k of path.split('.')) spec = (spec as Extract<Spec, { kind: 'object' }>).fields[k]!;
  const d = (spec as { default?: unknown }).default;
  if (spec.kind === 'duration' && typeof d === 'string') return parseDuration(d, path) as T;
  return d as T;
}

const LEVELS: Record<string, PinoLevel> = { 'debug-color': 'debug', panic: 'fatal' };

function toServeConfig(tree: Tree, source: string): ServeConfig {
  const opt = (path: string): string | undefined => {
    const v = get(tree, path) as string | undefined;
    return v === undefined || v === '' ? undefined : v;
  };
  const level = dflt<string>(tree, 'log_level');
  const locations: Record<string, string> = {};
  let sets: string[] | undefined;
  for (const base of ['updaters', 'matcher.updaters']) {
    const s = get(tree, `${base}.sets`) as string[] | undefined;
    if (s !== undefined) {
      if (sets !== undefined) throw new ClairError('bad-input', `config ${source}: updaters.sets and matcher.updaters.sets are both set; keep one`);
      sets = s;
    }
    for (const [name, entry] of Object.entries((get(tree, `${base}.config`) as Record<string, { url?: string }> | undefined) ?? {})) {
      if (entry.url !== undefined && entry.url !== '') locations[name] = entry.url;
    }
  }
  const pskTree = get(tree, 'auth.psk') as { key?: string; iss?: string[] } | undefined;
  let psk: { key: Uint8Array; issuers: string[] } | undefined;
  if (pskTree !== undefined && (pskTree.key !== undefined || pskTree.iss !== undefined)) {
    if (pskTree.key === undefined) throw new ClairError('bad-input', `config ${source}: auth.psk.key is required when auth.psk is set`);
    psk = { key: new Uint8Array(Buffer.from(pskTree.key, 'base64')), issuers: pskTree.iss ?? [] };
  }
  for (const key of ['matcher.period', 'http.request_timeout']) {
    if (dflt<number>(tree, key) <= 0) throw new ClairError('bad-input', `config ${source}: ${key} must be longer than 0s`);
  }
  const indexerConn = opt('indexer.connstring');
  const matcherConn = opt('matcher.connstring');
  const indexerAddr = opt('matcher.indexer_addr');
  const repo2cpe = opt('indexer.scanner.repo.rhel-repository-scanner.repo2cpe_mapping_file');
  return {
    httpListenAddr: dflt(tree, 'http_listen_addr'),
    introspectionAddr: dflt(tree, 'introspection_addr'),
    logLevel: LEVELS[level] ?? (level as PinoLevel),
    indexer: {
      ...(indexerConn ? { connstring: indexerConn } : {}),
      layerScanConcurrency: dflt(tree, 'indexer.layer_scan_concurrency'),
      allowFileUris: dflt(tree, 'indexer.allow_file_uris'),
      allowPrivateAddresses: dflt(tree, 'indexer.allow_private_addresses'),
      ...(repo2cpe ? { rhelRepositoryCpeMappingFile: repo2cpe } : {}),
    },
    matcher: {
      ...(matcherConn ? { connstring: matcherConn } : {}),
      ...(indexerAddr ? { indexerAddr } : {}),
      periodMs: dflt(tree, 'matcher.period'),
      disableUpdaters: dflt(tree, 'matcher.disable_updaters'),
      updateRetention: dflt(tree, 'matcher.update_retention'),
    },
    updaters: { ...(sets !== undefined ? { sets } : {}), locations },
    notifier: parseNotifierConfig((get(tree, 'notifier') as Tree | undefined) ?? {}),
    auth: psk ? { psk } : {},
    http: { bodyLimit: dflt(tree, 'http.body_limit'), requestTimeoutMs: dflt(tree, 'http.request_timeout') },
  };
}
