import type { Readable } from 'node:stream';
import { lazyRequire } from '../../model/lazy-require.ts';
import { ClairError } from '../../model/errors.ts';
import type { Vulnerability } from '../../model/vulnerability.ts';
import { openFeedArchive, readFeedDocuments, type FeedDocument } from '../../updater/feed-archive.ts';
import type { Updater, UpdaterOptions } from '../../updater/updater.ts';
import { versionSchemes } from '../../versions/registry.ts';
import { ecosystemByOsvName, LANGUAGE_ECOSYSTEMS } from './ecosystems.ts';
import { BadRecordError, convertOsvRecord } from './osv-record.ts';

const yaml = lazyRequire<typeof import('yaml')>('yaml');

// The OSV updaters. One parser reads every OSV source clair-ts knows:
//   osv  OSV's exports (`<Ecosystem>/all.zip`, or the all-ecosystem all.zip), a folder of OSV records (a checkout of
//        github/advisory-database, whose advisories/github-reviewed/** are OSV JSON; pypa/advisory-database's OSV
//        YAML), or one JSON document holding a record or an array of records.
//        `osv=LOCATION#ecosystems=PyPI,npm` keeps only those ecosystems; each filter (or `#name=LABEL`) is its own
//        feed, stored as update operations named `osv/PyPI,npm` (`osv/LABEL`), so the PyPI and npm zips of OSV do not
//        replace each other.
//   go   the Go vulnerability database (its OSV, Go ecosystem only), with the `stdlib` and `toolchain` modules.
// Records marked `withdrawn` are dropped. A file that is not a usable OSV record is skipped with a warning; a feed
// with no usable record at all is refused by the engine (--allow-empty), so an empty download never replaces
// yesterday's advisories.

export const OSV_ALL_URL = 'https://osv-vulnerabilities.storage.googleapis.com/all.zip';
export const GO_VULNDB_URL = 'https://osv-vulnerabilities.storage.googleapis.com/Go/all.zip';

const OSV_PATH = /\.(json|ya?ml)$/i;

/** OSV documents; not what hidden folders (.git, .github workflows) of a checkout hold. */
function wantOsvPath(path: string): boolean {
  return OSV_PATH.test(path) && !/(^|\/)\./.test(path);
}

/** The documents of one feed entry: a record, or each element of a JSON array of records (VulnFeed's files). */
function documents(entry: FeedDocument): unknown[] {
  const text = entry.data.toString('utf8').replace(/^\uFEFF/, '');
  let doc: unknown;
  if (/\.ya?ml$/i.test(entry.path)) {
    // failsafe: every scalar a string, so `fixed: 1.10` stays "1.10" and is not read as the number 1.1.
    doc = yaml().parse(text, { schema: 'failsafe' });
  } else {
    try {
      doc = JSON.parse(text);
    } catch (e) {
      if (/\.json$/i.test(entry.path)) throw e;
      doc = yaml().parse(text, { schema: 'failsafe' });
    }
  }
  return Array.isArray(doc) ? doc : [doc];
}

export interface OsvParseConfig {
  updater: string;
  /** OSV ecosystem names, lowercase; undefined = every language ecosystem. */
  ecosystems?: ReadonlySet<string>;
}

/** The ecosystem's version order for sorting range events, from the registered schemes. */
function schemeOrder(id: string): ((a: string, b: string) => number) | undefined {
  const scheme = versionSchemes.get(id);
  return scheme ? (a, b) => scheme.compare(a, b) : undefined;
}

export async function* osvRecords(feed: Readable, location: string, cfg: OsvParseConfig, warn: (m: string) => void = () => {}): AsyncGenerator<Vulnerability> {
  for await (const entry of readFeedDocuments(feed, location, wantOsvPath)) {
    let docs: unknown[];
    try {
      docs = documents(entry);
    } catch {
      // The parser's message quotes the text; feed text is not echoed to terminals and logs.
      warn(`${location}${entry.path ? ': ' + entry.path : ''}: not JSON or YAML`);
      continue;
    }
    for (const doc of docs) {
      let converted;
      try {
        converted = convertOsvRecord(doc, { ...cfg, compare: schemeOrder });
      } catch (e) {
        if (!(e instanceof BadRecordError)) throw e;
        warn(`${location}${entry.path ? ': ' + entry.path : ''}: ${e.message}`);
        continue;
      }
      yield* converted.records;
    }
  }
}

/** `ecosystems=PyPI,npm` → their lowercase OSV names; bad-input naming the known ones for anything else. */
export function parseEcosystems(value: string): Set<string> {
  const out = new Set<string>();
  for (const raw of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eco = ecosystemByOsvName(raw);
    if (!eco) throw new ClairError('bad-input', `osv ecosystems: unknown ecosystem "${raw}" (known: ${LANGUAGE_ECOSYSTEMS.map((e) => e.osv).join(', ')})`);
    out.add(eco.osv.toLowerCase());
  }
  if (out.size === 0) throw new ClairError('bad-input', 'osv ecosystems: the list is empty');
  return out;
}

function osvOperationName(options: Readonly<Record<string, string>>): string {
  if (options.name !== undefined) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(options.name)) throw new ClairError('bad-input', `osv name "${options.name}": letters, digits, ".", "_" and "-" only`);
    return `osv/${options.name}`;
  }
  if (options.ecosystems !== undefined) {
    const set = parseEcosystems(options.ecosystems);
    return `osv/${LANGUAGE_ECOSYSTEMS.filter((e) => set.has(e.osv.toLowerCase())).map((e) => e.osv).join(',')}`;
  }
  return 'osv';
}

export const osvUpdater: Updater = {
  name: 'osv',
  version: '2',
  defaultLocation: OSV_ALL_URL,
  locationOptions: ['ecosystems', 'name'],
  operationName: osvOperationName,
  open: (location, o) => openFeedArchive(location, { ...o, wanted: wantOsvPath }),
  parse(feed: Readable, opts: UpdaterOptions) {
    const options = opts.options ?? {};
    return osvRecords(feed, opts.location, {
      updater: osvOperationName(options),
      ...(options.ecosystems !== undefined ? { ecosystems: parseEcosystems(options.ecosystems) } : {}),
    }, opts.warn);
  },
};

export const goUpdater: Updater = {
  name: 'go',
  version: '2',
  defaultLocation: GO_VULNDB_URL,
  open: (location, o) => openFeedArchive(location, { ...o, wanted: wantOsvPath }),
  parse(feed: Readable, opts: UpdaterOptions) {
    return osvRecords(feed, opts.location, { updater: 'go', ecosystems: new Set(['go']) }, opts.warn);
  },
};
