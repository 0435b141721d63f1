import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { makeTar, sha256Digest } from '../support/tar-layer.ts';
import { freePort } from '../support/free-port.ts';

// Pieces of the several-instances tests: `clair-ts serve` processes on one PostgreSQL schema, a layer and feed
// server that counts what it serves (and can hold a response back), hand-made Debian-like images that share
// layers, and a small Debian security tracker feed in the tracker's own JSON shape.

const root = resolve(import.meta.dirname, '../..');

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000, describe?: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await f();
    if (v !== undefined) return v;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${describe ? `\n${describe()}` : ''}`);
}

/** A connstring that puts every session of a store in `schema` (PostgresStore.open takes search_path from `options`). */
export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

// ---- the blob and feed server

export interface Hold {
  /** Resolves when a request for the path has arrived and is being held. */
  reached: Promise<void>;
  release(): void;
}

export interface CountingServer {
  url: string;
  /** Requests per path (GET /blobs/<digest> counts under "/blobs/<digest>"). */
  hits: Map<string, number>;
  put(path: string, bytes: Buffer): void;
  /** Every response waits this long first, so that concurrent requests really overlap. */
  delayMs: number;
  /** Holds the next responses for path until release(). */
  hold(path: string): Hold;
  close(): Promise<void>;
}

export async function startCountingServer(): Promise<CountingServer> {
  const files = new Map<string, Buffer>();
  const hits = new Map<string, number>();
  const holds = new Map<string, { arrived: () => void; released: Promise<void> }>();
  const state = { delayMs: 0 };
  const server: Server = createHttpServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '').split('?')[0]!);
    hits.set(path, (hits.get(path) ?? 0) + 1);
    void (async () => {
      const h = holds.get(path);
      if (h) {
        h.arrived();
        await h.released;
      }
      if (state.delayMs > 0) await sleep(state.delayMs);
      const b = files.get(path);
      if (!b) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': b.length }).end(b);
    })();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    hits,
    put: (p, b) => files.set(p, b),
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms: number) {
      state.delayMs = ms;
    },
    hold(path) {
      let arrived!: () => void;
      let release!: () => void;
      const reached = new Promise<void>((r) => (arrived = r));
      const released = new Promise<void>((r) => (release = r));
      holds.set(path, { arrived, released });
      return {
        reached,
        release: () => {
          holds.delete(path);
          release();
        },
      };
    },
    close: async () => {
      for (const h of holds.values()) h.arrived();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

// ---- images: Debian-like layers, some shared between images

export const OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n';

function statusEntry(name: string, version: string, source?: string): string {
  return `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\n${source ? `Source: ${source}\n` : ''}Version: ${version}\n\n`;
}

const BASE_STATUS = statusEntry('libssl3', '3.0.11-1~deb12u1', 'openssl') + statusEntry('zlib1g', '1:1.2.13.dfsg-1', 'zlib');

export interface ClusterLayer {
  digest: string;
  bytes: Buffer;
}

export interface ClusterImage {
  name: string;
  manifestHash: string;
  layers: ClusterLayer[];
}

/**
 * Three images over four layers: "base" (os-release, dpkg status) is in all three, "curl" (adds curl to the status)
 * in two, "app" and "tools" in one each. `salt` keeps one test run's digests apart from another's.
 */
export async function sharedLayerImages(salt: string): Promise<{ images: ClusterImage[]; layers: Record<'base' | 'curl' | 'app' | 'tools', ClusterLayer> }> {
  const layer = (bytes: Buffer): ClusterLayer => ({ digest: sha256Digest(bytes), bytes });
  const base = layer(gzipSync(await makeTar([
    { path: 'etc/os-release', content: OS_RELEASE },
    { path: 'var/lib/dpkg/status', content: BASE_STATUS },
    { path: 'etc/salt', content: salt },
  ])));
  const curl = layer(await makeTar([{ path: 'var/lib/dpkg/status', content: BASE_STATUS + statusEntry('curl', '7.88.1-10+deb12u4') }, { path: 'etc/curl-salt', content: salt }]));
  const app = layer(await makeTar([{ path: 'srv/app/README', content: `app ${salt}\n` }]));
  const tools = layer(gzipSync(await makeTar([{ path: 'usr/local/bin/tool', content: `#!/bin/sh\necho ${salt}\n`, mode: 0o755 }])));
  const image = (name: string, layers: ClusterLayer[]): ClusterImage => ({
    name,
    manifestHash: sha256Digest(Buffer.from(`${name}\n${layers.map((l) => l.digest).join('\n')}`)),
    layers,
  });
  return {
    images: [image('web', [base, curl, app]), image('worker', [base, curl, tools]), image('slim', [base, app])],
    layers: { base, curl, app, tools },
  };
}

export function manifestOf(img: ClusterImage, server: CountingServer): { hash: string; layers: { hash: string; uri: string; headers: Record<string, string[]> }[] } {
  return { hash: img.manifestHash, layers: img.layers.map((l) => ({ hash: l.digest, uri: `${server.url}/blobs/${l.digest}`, headers: {} })) };
}

// ---- a Debian security tracker feed (the shape of https://security-tracker.debian.org/tracker/data/json)

/** Two findings for the images above (openssl, curl), one fixed before the installed version, one other release. */
export function trackerFeed(extra: Record<string, unknown> = {}): Buffer {
  const rel = (r: Record<string, unknown>) => ({ bookworm: { repositories: { bookworm: '1' }, urgency: 'medium', ...r } });
  return Buffer.from(JSON.stringify({
    openssl: {
      'CVE-2099-1001': { description: 'openssl issue fixed after the installed version', scope: 'remote', releases: rel({ status: 'resolved', fixed_version: '3.0.13-1~deb12u1' }) },
      'CVE-2099-1002': { description: 'openssl issue fixed before the installed version', scope: 'remote', releases: rel({ status: 'resolved', fixed_version: '3.0.1-1' }) },
    },
    curl: {
      'CVE-2099-2001': { description: 'curl issue without a fix', scope: 'remote', releases: rel({ status: 'open', urgency: 'high' }) },
    },
    zlib: {
      'CVE-2099-3001': { description: 'zlib issue in another release', scope: 'local', releases: { bullseye: { repositories: { bullseye: '1' }, status: 'open', urgency: 'low' } } },
    },
    ...extra,
  }));
}

// ---- `clair-ts serve` processes

export { freePort };

export interface ServeProcess {
  name: string;
  apiUrl: string;
  introspectionUrl: string;
  child: ChildProcess;
  /** Everything it wrote so far (pino JSON lines). */
  output(): string;
  /** Log lines whose msg matches. */
  logLines(msg: RegExp): Record<string, unknown>[];
  /** SIGTERM, then the exit code (SIGKILL after 15 s). */
  stop(): Promise<number | null>;
}

/** Starts `node src/cli/main.ts serve` with the YAML below the listen addresses; resolves once /readyz answers 200. */
export async function startServeProcess(name: string, mode: string, db: string, yaml: string): Promise<ServeProcess> {
  const dir = await mkdtemp(join(tmpdir(), `clair-ts-cluster-${name}-`));
  const [api, intro] = [await freePort(), await freePort()];
  const config = join(dir, 'config.yaml');
  await writeFile(config, `http_listen_addr: "127.0.0.1:${api}"\nintrospection_addr: "127.0.0.1:${intro}"\nlog_level: info\n${yaml}`);
  const child = spawn(process.execPath, [join(root, 'src/cli/main.ts'), 'serve', '--config', config, '--mode', mode, '--db', db], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CLAIR_TS_DB: '', CLAIR_TS_CONFIG: '', CLAIR_TS_MODE: '' },
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = once(child, 'exit');
  const p: ServeProcess = {
    name,
    apiUrl: `http://127.0.0.1:${api}`,
    introspectionUrl: `http://127.0.0.1:${intro}`,
    child,
    output: () => out,
    logLines: (msg) =>
      out.split('\n').flatMap((l) => {
        if (!l.startsWith('{')) return [];
        try {
          const j = JSON.parse(l) as Record<string, unknown>;
          return typeof j.msg === 'string' && msg.test(j.msg) ? [j] : [];
        } catch {
          return [];
        }
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const [code] = (await exited) as [number | null];
      clearTimeout(t);
      return code;
    },
  };
  try {
    await until(
      `${name} (${mode}) to become ready`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode} before becoming ready:\n${out}`);
        return (await fetch(`${p.introspectionUrl}/readyz`).then((r) => r.ok, () => false)) ? true : undefined;
      },
      30_000,
      () => out,
    );
  } catch (e) {
    await p.stop();
    throw e;
  }
  return p;
}
