import type { Token } from 'stream-json/parser.js';
import { ClairError } from '../../model/errors.ts';

// The Debian security tracker's JSON export, https://security-tracker.debian.org/tracker/data/json:
//   { <source package>: { <CVE-… or TEMP-… id>: { description?, scope?, debianbug?,
//       releases: { <codename>: { status, repositories: {<suite>: <version>}, fixed_version?, urgency, nodsa? } } } } }
// The real file is over 100 MB, so it is read as a token stream and assembled one source package at a time: memory
// holds one package's issues, never the file. The tracker is written in PHP-ish Python and emits an empty `[]` where
// an object has no members (e.g. `"releases": []`); that is accepted as empty.

export interface TrackerRelease {
  /** Release codename as the feed names it ("bookworm", "sid"). */
  codename: string;
  /** "resolved", "open" or "undetermined" in today's feed. */
  status: string;
  /** The first fixed (source) version; "0" means the release was never affected. Absent when not fixed. */
  fixedVersion: string | undefined;
  /** The urgency string as given ("low", "high**", "not yet assigned"), "" when absent. */
  urgency: string;
}

export interface TrackerIssue {
  /** CVE-YYYY-NNNN, or TEMP-NNNNNNN-XXXXXX for issues without a CVE yet. */
  id: string;
  description: string;
  releases: TrackerRelease[];
}

export interface TrackerSourcePackage {
  name: string;
  issues: TrackerIssue[];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An object, or the tracker's `[]` for an empty one; undefined for anything else. */
function members(v: Json | undefined): { [k: string]: Json } | undefined {
  if (isObject(v)) return v;
  if (Array.isArray(v) && v.length === 0) return {};
  return undefined;
}

class ShapeError extends Error {}

function optionalString(v: Json | undefined, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ShapeError(`${what} is ${JSON.stringify(v)}, not a string`);
  return v;
}

/** Validates one top-level member (a source package and its issues). Throws ShapeError naming the bad part. */
function trackerSourcePackage(name: string, value: Json): TrackerSourcePackage {
  const issues = members(value);
  if (!issues) throw new ShapeError(`package ${JSON.stringify(name)}: expected an object of issues`);
  const out: TrackerIssue[] = [];
  for (const id in issues) {
    const issue = issues[id];
    const where = `package ${JSON.stringify(name)} ${id}`;
    if (!isObject(issue)) throw new ShapeError(`${where}: expected an object`);
    const releases = members(issue['releases']);
    if (!releases) throw new ShapeError(`${where}: "releases" is missing or not an object`);
    const rels: TrackerRelease[] = [];
    for (const codename in releases) {
      const r = releases[codename];
      const rwhere = `${where} release ${JSON.stringify(codename)}`;
      if (!isObject(r)) throw new ShapeError(`${rwhere}: expected an object`);
      const status = r['status'];
      if (typeof status !== 'string' || status === '') throw new ShapeError(`${rwhere}: no status`);
      rels.push({
        codename,
        status,
        fixedVersion: optionalString(r['fixed_version'], `${rwhere}: fixed_version`),
        urgency: optionalString(r['urgency'], `${rwhere}: urgency`) ?? '',
      });
    }
    const description = issue['description'];
    out.push({ id, description: typeof description === 'string' ? description : '', releases: rels });
  }
  return { name, issues: out };
}

/**
 * Reads the tracker JSON as bytes arrive and yields one source package at a time, in feed order.
 * Malformed input (not UTF-8, not JSON, truncated, wrong shape) throws ClairError('bad-feed') naming `location`;
 * errors of the byte source itself (network, file) come through unchanged.
 */
export async function* readTrackerJson(
  feed: AsyncIterable<Uint8Array | string>,
  location: string,
): AsyncGenerator<TrackerSourcePackage> {
  // The bare tokenizer and streamer are synchronous functions (token in, tokens out); calling them directly instead
  // of piping object-mode streams avoids a stream hop per token, which is most of the cost of a stream pipeline.
  // Packed values only: keys and strings arrive as one token each.
  // Loaded here, not at the top: only `update` reads the feed, and every command imports this ecosystem.
  const { jsonParser } = await import('stream-json/parser.js');
  const { streamObject } = await import('stream-json/streamers/stream-object.js');
  const tokenize = jsonParser({ packValues: true, streamValues: false });
  const assemble = streamObject<Json>();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let ready: TrackerSourcePackage[] = [];
  // Nesting depth of the token stream, to know at the end of input whether the top-level object was closed: the
  // tokenizer is never told "end of input" (that needs stream-chain's private `none`), so truncation is caught here.
  let depth = 0;
  let closed = false;

  const bad = (e: unknown): ClairError =>
    e instanceof ClairError ? e : new ClairError('bad-feed', `${location}: ${(e as Error).message}`, { cause: e });

  const push = (text: string): void => {
    const out = tokenize(text);
    if (typeof out === 'symbol') return;
    const tokens: Token[] = out.values;
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!;
      switch (token.name) {
        case 'startObject':
        case 'startArray':
          depth++;
          break;
        case 'endObject':
        case 'endArray':
          if (--depth === 0) closed = true;
          break;
      }
      const item = assemble(token);
      if (typeof item === 'symbol') continue;
      // streamObject yields each top-level property once its value is complete.
      const { key, value } = item as { key: string; value: Json };
      ready.push(trackerSourcePackage(key, value));
    }
  };

  // A parse error is held until the packages completed before it are handed out, so a consumer sees everything up
  // to the damage and then the error, in order.
  let failure: ClairError | undefined;
  const feedText = (text: string): void => {
    try {
      push(text);
    } catch (e) {
      failure = bad(e);
    }
  };

  for await (const chunk of feed) {
    let text: string;
    try {
      text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    } catch (e) {
      throw bad(e);
    }
    feedText(text);
    if (ready.length > 0) {
      const batch = ready;
      ready = [];
      yield* batch;
    }
    if (failure) throw failure;
  }
  let rest = '';
  try {
    rest = decoder.decode();
  } catch (e) {
    throw bad(e);
  }
  if (rest) feedText(rest);
  yield* ready;
  if (failure) throw failure;
  if (!closed) {
    throw new ClairError('bad-feed', `${location}: ${depth === 0 ? 'empty feed, expected a JSON object' : 'truncated JSON: the input ends inside the top-level object'}`);
  }
}
