// Every key `clair-ts serve` reads from its YAML config, with its type, default and environment variable.
// One table drives validation (unknown key → error naming it), environment overrides and the reference in
// the README (configReference), so the three cannot drift apart.
//
// Layout follows Clair v4's config where clair-ts has the same notion (http_listen_addr, indexer.*, matcher.*,
// updaters.*, notifier.*, auth.psk.*); clair-ts additions are indexer.allow_file_uris,
// indexer.allow_private_addresses and the http.* section.
//
// Environment rule: CLAIR_TS_ + the key path with "." replaced by "_", upper-cased:
//   http_listen_addr → CLAIR_TS_HTTP_LISTEN_ADDR, auth.psk.key → CLAIR_TS_AUTH_PSK_KEY.
// Lists are comma-separated (CLAIR_TS_UPDATERS_SETS=debian,ubuntu). Per-updater keys use the updater name:
//   updaters.config.debian.url → CLAIR_TS_UPDATERS_CONFIG_DEBIAN_URL.
// An environment variable wins over the file.

export type FieldSpec =
  | { kind: 'string'; default?: string; doc: string }
  | { kind: 'int'; default?: number; min: number; doc: string }
  | { kind: 'bool'; default?: boolean; doc: string }
  | { kind: 'duration'; default?: string; doc: string }
  | { kind: 'enum'; values: readonly string[]; default?: string; doc: string }
  | { kind: 'list'; default?: readonly string[]; doc: string }
  | { kind: 'base64'; doc: string };

export type Spec = FieldSpec | { kind: 'object'; fields: Record<string, Spec>; doc?: string } | { kind: 'map'; value: Spec; doc: string };

const str = (doc: string, dflt?: string): FieldSpec => (dflt === undefined ? { kind: 'string', doc } : { kind: 'string', default: dflt, doc });
const bool = (doc: string, dflt: boolean): FieldSpec => ({ kind: 'bool', default: dflt, doc });
const dur = (doc: string, dflt?: string): FieldSpec => (dflt === undefined ? { kind: 'duration', doc } : { kind: 'duration', default: dflt, doc });
const list = (doc: string): FieldSpec => ({ kind: 'list', doc });
const obj = (fields: Record<string, Spec>, doc?: string): Spec => (doc === undefined ? { kind: 'object', fields } : { kind: 'object', fields, doc });

export const LOG_LEVELS = ['trace', 'debug', 'debug-color', 'info', 'warn', 'error', 'fatal', 'panic', 'silent'] as const;

const tls = obj({ root_ca: str('PEM file of the CA to trust'), cert: str('PEM client certificate'), key: str('PEM client key') });

export const configSpec: Spec = obj({
  http_listen_addr: str('API listen address, host:port (":6060" = every interface)', ':6060'),
  introspection_addr: str('/healthz, /readyz and /metrics listen address', ':8089'),
  log_level: { kind: 'enum', values: LOG_LEVELS, default: 'info', doc: 'pino log level (Clair\'s "debug-color" means debug, "panic" means fatal)' },
  indexer: obj({
    connstring: str('store of the indexer: SQLite file path or postgres:// connstring (default: --db, $CLAIR_TS_DB, XDG data dir)'),
    layer_scan_concurrency: { kind: 'int', default: 3, min: 1, doc: 'layers of one manifest fetched and scanned at once' },
    allow_file_uris: bool('accept file:// layer URIs (reads any file the server can read: only for trusted clients)', false),
    allow_private_addresses: bool('fetch layers from loopback, private and link-local addresses', false),
    // Accepted for Clair compatibility; clair-ts has no scan lock to retry.
    scanlock_retry: { kind: 'int', min: 0, doc: 'accepted for Clair compatibility, unused' },
    migrations: bool('accepted for Clair compatibility; clair-ts always migrates', true),
    airgap: bool('accepted for Clair compatibility; unused', false),
    // Clair's key for the same file (claircore's rhel repository scanner).
    scanner: obj({
      repo: obj({
        'rhel-repository-scanner': obj({
          repo2cpe_mapping_file: str('local copy of Red Hat\'s repository-to-cpe.json: content sets of Red Hat images become CPEs (CLAIR_TS_RHEL_REPO2CPE overrides it)'),
        }),
      }),
    }),
  }),
  matcher: obj({
    connstring: str('store of the matcher (combo mode uses indexer.connstring when this is empty)'),
    indexer_addr: str('base URL of the indexer, e.g. http://indexer:6060 (matcher mode; combo mode calls the indexer in process)'),
    period: dur('interval between updater runs (Clair: 30m; clair-ts: 6h, unchanged feeds cost one conditional GET)', '6h'),
    disable_updaters: bool('do not run updaters in this process', false),
    update_retention: { kind: 'int', default: 10, min: 0, doc: 'update operations kept per updater; older ones and records only they held are deleted (0 keeps all; otherwise at least 2)' },
    migrations: bool('accepted for Clair compatibility; clair-ts always migrates', true),
    max_conn_pool: { kind: 'int', min: 1, doc: 'accepted for Clair compatibility, unused' },
    updaters: obj({ sets: list('alias of updaters.sets'), config: { kind: 'map', value: obj({ url: str('feed location') }), doc: 'alias of updaters.config' } }),
  }),
  updaters: obj({
    sets: list('updaters to run, by name (default: all)'),
    config: { kind: 'map', value: obj({ url: str('feed location: URL, file path or file:// URL (default: the public feed)') }), doc: 'per-updater settings, keyed by updater name' },
  }),
  notifier: obj(
    {
      connstring: str('store of the notifier (notifier mode): the store the matcher writes, i.e. a shared PostgreSQL connstring'),
      migrations: bool('accepted for Clair compatibility', true),
      indexer_addr: str('accepted for Clair compatibility, unused: clair-ts\'s notifier reads the shared store'),
      matcher_addr: str('accepted for Clair compatibility, unused: clair-ts\'s notifier reads the shared store'),
      poll_interval: dur('interval between checks for new update operations', '5m'),
      delivery_interval: dur('interval between delivery attempts', '5m'),
      allow_private_addresses: bool('subscriptions may deliver to loopback, private and link-local addresses (clair-ts addition)', false),
      disable_summary: bool('one notification per manifest, reason and vulnerability instead of the most severe one per manifest and reason', false),
      webhook: obj({
        target: str('http(s) URL the webhook is POSTed to'),
        callback: str('base URL clients fetch notifications from, e.g. http://clair:6060/notifier/api/v1/notification (required with target)'),
        headers: { kind: 'map', value: list('header values'), doc: 'extra headers sent with the webhook' },
        signed: bool('deprecated, as in Clair: deliveries are signed whenever auth.psk is set', false),
      }),
      amqp: obj({
        exchange: obj({ name: str('exchange name'), type: str('exchange type'), durable: bool('durable exchange', false), auto_delete: bool('auto-delete exchange', false) }),
        uris: list('AMQP broker URIs, amqp:// or amqps://, tried in order'),
        routing_key: str('routing key'),
        callback: str('base URL clients fetch notifications from (required unless direct)'),
        direct: bool('deliver notifications in the message', false),
        rollup: { kind: 'int', min: 0, doc: 'notifications per direct message (default 1)' },
        tls: obj({ root_ca: str('not implemented: setting tls is a startup error'), cert: str('not implemented'), key: str('not implemented') }),
      }),
      stomp: obj({
        destination: str('STOMP destination'),
        uris: list('STOMP brokers, host:port (or stomp://host:port, stomp+ssl://host:port), tried in order'),
        callback: str('base URL clients fetch notifications from'),
        direct: bool('deliver notifications in the message', false),
        rollup: { kind: 'int', min: 0, doc: 'notifications per direct message' },
        user: obj({ login: str('STOMP login'), passcode: str('STOMP passcode') }),
        tls,
      }),
    },
    'notifications for new update operations (combo and notifier modes)',
  ),
  auth: obj({
    psk: obj({
      key: { kind: 'base64', doc: 'pre-shared HS256 key, base64 (as in Clair)' },
      iss: list('allowed JWT issuers ("clair-intraservice" is always allowed)'),
    }),
  }),
  http: obj({
    body_limit: { kind: 'int', default: 4 * 1024 * 1024, min: 1024, doc: 'largest request body in bytes (413 above)' },
    request_timeout: dur('longest time a request may take, indexing included (503 after)', '5m'),
  }),
});

export interface ConfigReferenceRow {
  key: string;
  type: string;
  default: string;
  env: string;
  doc: string;
}

export function envName(path: readonly string[]): string {
  return 'CLAIR_TS_' + path.join('_').toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

/** One row per leaf key, in table order; map entries are shown with <name>. */
export function configReference(spec: Spec = configSpec, path: string[] = []): ConfigReferenceRow[] {
  if (spec.kind === 'object') return Object.entries(spec.fields).flatMap(([k, s]) => configReference(s, [...path, k]));
  if (spec.kind === 'map') return configReference(spec.value, [...path, '<name>']);
  const type = spec.kind === 'enum' ? spec.values.join(' | ') : spec.kind === 'list' ? 'list of strings' : spec.kind;
  const dflt = 'default' in spec && spec.default !== undefined ? (Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default)) : '';
  return [{ key: path.join('.'), type, default: dflt, env: envName(path), doc: spec.doc }];
}
