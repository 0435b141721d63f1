import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { TestContext } from 'node:test';
import { pino } from 'pino';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parseConfig } from '../../src/config/load-config.ts';
import { dpkgStatusScanner } from '../../src/ecosystems/dpkg/scanner.ts';
import type { Matcher } from '../../src/matcher/matcher.ts';
import { osRelease } from '../../src/ecosystems/os-release/index.ts';
import { newVulnerability, type Vulnerability } from '../../src/model/vulnerability.ts';
import { startService, type Ecosystems, type RunningService, type ServeMode } from '../../src/composition/start-service.ts';
import type { Updater } from '../../src/updater/updater.ts';
import { compareDpkgVersionStrings } from '../../src/versions/dpkg.ts';
import { makeTar, sha256Digest } from '../support/tar-layer.ts';

// Shared pieces of the HTTP integration tests: a service on an ephemeral loopback port, a blob server for
// layers, a small Debian-like image, and response validation against Clair's JSON schemas.

// ---- a feed format of the tests' own, so the API tests do not depend on one ecosystem's updater landing first.
// Records: [{"name": "CVE-…", "package": "<source name>", "release": "bookworm", "fixed": "<version>|", "severity": "High"}]
export const testFeedUpdater: Updater = {
  name: 'testfeed',
  version: '1',
  defaultLocation: 'file:///nonexistent/testfeed.json',
  async *parse(feed) {
    const chunks: Buffer[] = [];
    for await (const c of feed) chunks.push(c as Buffer);
    const records = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { name: string; package: string; release: string; fixed: string; severity: Vulnerability['normalizedSeverity'] }[];
    for (const r of records) {
      yield newVulnerability({
        updater: `testfeed/${r.release}`,
        name: r.name,
        description: `${r.name} in ${r.package}`,
        links: `https://security-tracker.debian.org/tracker/${r.name}`,
        severity: r.severity.toLowerCase(),
        normalizedSeverity: r.severity,
        package: { name: r.package, kind: 'source', module: '', arch: '' },
        dist: { did: 'debian', versionId: '', versionCodeName: r.release, cpe: '', name: 'Debian GNU/Linux', version: '', prettyName: '', arch: '' },
        fixedInVersion: r.fixed,
        versionScheme: 'dpkg',
      });
    }
  },
};

export const testFeedMatcher: Matcher = {
  name: 'testfeed',
  filter: (p) => p.distribution?.did === 'debian',
  query: (p) => ({
    packageNames: [p.package.source?.name ?? p.package.name],
    updaterPrefix: 'testfeed',
    dist: { did: 'debian', ...(p.distribution?.versionCodeName ? { versionCodeName: p.distribution.versionCodeName } : {}) },
  }),
  vulnerable: (p, v) => v.fixedInVersion === '' || compareDpkgVersionStrings(p.package.source?.version ?? p.package.version, v.fixedInVersion) < 0,
};

export const testEcosystems: Ecosystems = {
  scanners: [...osRelease.scanners, dpkgStatusScanner],
  matchers: [testFeedMatcher],
  updaters: [testFeedUpdater],
};

// ---- a Debian-like image: layer 1 has os-release and a dpkg status with two packages, layer 2 adds one.
export const OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
`;

function statusEntry(name: string, version: string, source?: string): string {
  return `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\n${source ? `Source: ${source}\n` : ''}Version: ${version}\n\n`;
}

export interface TestLayer {
  digest: string;
  bytes: Buffer;
}

export interface TestImage {
  manifestHash: string;
  layers: TestLayer[];
}

/** `salt` makes distinct images (distinct layer digests) for tests that must not share the layer cache. */
export async function debianLikeImage(salt = ''): Promise<TestImage> {
  const status1 = statusEntry('libssl3', '3.0.11-1~deb12u1', 'openssl') + statusEntry('zlib1g', '1:1.2.13.dfsg-1', 'zlib');
  const l1 = gzipSync(await makeTar([
    { path: 'etc/os-release', content: OS_RELEASE },
    { path: 'var/lib/dpkg/status', content: status1 },
    { path: 'etc/salt', content: salt },
  ]));
  const l2 = await makeTar([{ path: 'var/lib/dpkg/status', content: status1 + statusEntry('curl', '7.88.1-10+deb12u4') }, { path: 'etc/salt2', content: salt }]);
  const layers = [l1, l2].map((bytes) => ({ digest: sha256Digest(bytes), bytes }));
  // The manifest hash only has to be a digest: make it depend on the layers, as a real one does.
  return { manifestHash: sha256Digest(Buffer.from(layers.map((l) => l.digest).join('\n'))), layers };
}

export const TEST_FEED = [
  { name: 'CVE-2023-5678', package: 'openssl', release: 'bookworm', fixed: '3.0.13-1~deb12u1', severity: 'Medium' },
  { name: 'CVE-2023-0001', package: 'openssl', release: 'bookworm', fixed: '3.0.1-1', severity: 'High' }, // fixed before the installed version
  { name: 'CVE-2023-38545', package: 'curl', release: 'bookworm', fixed: '7.88.1-10+deb12u5', severity: 'High' },
  { name: 'CVE-2022-37434', package: 'zlib', release: 'bullseye', fixed: '', severity: 'Critical' }, // other release
];

// ---- a blob server: GET /blobs/<digest> → bytes; counts requests; can require a header.
export interface BlobServer {
  url: string;
  hits: Map<string, number>;
  /** Registers bytes under a digest (which may deliberately not match them). */
  put(digest: string, bytes: Buffer): void;
  requireAuth?: string;
  close(): Promise<void>;
}

export async function startBlobServer(opts: { requireAuth?: string } = {}): Promise<BlobServer> {
  const blobs = new Map<string, Buffer>();
  const hits = new Map<string, number>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const digest = decodeURIComponent((req.url ?? '').replace(/^\/blobs\//, ''));
    hits.set(digest, (hits.get(digest) ?? 0) + 1);
    if (opts.requireAuth && req.headers.authorization !== opts.requireAuth) {
      res.writeHead(401).end();
      return;
    }
    const b = blobs.get(digest);
    if (!b) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': b.length }).end(b);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    put: (d, b) => blobs.set(d, b),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

export function manifestFor(img: TestImage, blobs: BlobServer, headers: Record<string, string[]> = {}): { hash: string; layers: { hash: string; uri: string; headers: Record<string, string[]> }[] } {
  return { hash: img.manifestHash, layers: img.layers.map((l) => ({ hash: l.digest, uri: `${blobs.url}/blobs/${l.digest}`, headers })) };
}

// ---- the service under test
export interface TestService extends RunningService {
  /** fetch relative to the API. */
  call(path: string, init?: RequestInit): Promise<Response>;
}

export async function startTestService(t: TestContext, yaml: string, opts: { mode?: ServeMode; db?: string; ecosystems?: Ecosystems; env?: NodeJS.ProcessEnv } = {}): Promise<TestService> {
  const base = 'http_listen_addr: "127.0.0.1:0"\nintrospection_addr: "127.0.0.1:0"\n';
  const config = parseConfig(base + yaml, 'test config', opts.env ?? {});
  const s = await startService(config, {
    mode: opts.mode ?? 'combo',
    db: opts.db ?? ':memory:',
    env: {},
    logger: pino({ level: process.env.CLAIR_TS_TEST_LOG ?? 'silent' }),
    ecosystems: opts.ecosystems ?? testEcosystems,
    updaterRetryBaseMs: 50,
  });
  t.after(() => s.close());
  return Object.assign(s, { call: (path: string, init?: RequestInit) => fetch(s.apiUrl + path, init) });
}

export function postJson(body: unknown, extra: Record<string, string> = {}): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json', ...extra }, body: JSON.stringify(body) };
}

// ---- schema validation
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export interface SchemaCheck {
  (schema: string, value: unknown): void;
}

/**
 * A validator of response bodies against test/fixtures/clair-api/clair-v1-as-served.schema.json: Clair's types with
 * every key Clair's server writes required and no others allowed (see the README beside it). Kept async and
 * optional in its result for the callers written when it read the shared OpenAPI copy.
 */
export async function schemaChecker(_t?: TestContext): Promise<SchemaCheck | undefined> {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const schema = JSON.parse(await readFile(join(import.meta.dirname, '../fixtures/clair-api/clair-v1-as-served.schema.json'), 'utf8')) as { $id: string };
  ajv.addSchema(schema);
  return (name, value) => {
    const validate = ajv.getSchema(`${schema.$id}#/$defs/${name}`);
    if (!validate) throw new Error(`no schema ${name}`);
    if (!validate(value)) throw new Error(`response does not match ${name} as Clair serves it: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 2000)}`);
  };
}

export function debianEcosystemPresent(): boolean {
  const root = join(import.meta.dirname, '../../src/ecosystems/debian');
  return existsSync(join(root, 'updater.ts')) && existsSync(join(root, 'matcher.ts'));
}
