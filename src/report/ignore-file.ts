import { readFile } from 'node:fs/promises';
import { lazyRequire } from '../model/lazy-require.ts';
import { ClairError, errorMessage } from '../model/errors.ts';

const yaml = lazyRequire<typeof import('yaml')>('yaml');

// The ignore file (`--ignore-file`, default .clair-ts-ignore.yaml in the working directory):
//
//   ignore:
//     - id: CVE-2023-38545            # a vulnerability id or any of its aliases
//       package: curl                 # optional: a package name pattern (`lib*`) or a purl pattern (pkg:deb/debian/curl)
//       reason: SOCKS5 proxies are not used by this service
//       expires: 2027-03-31           # optional: from the day after, the entry stops suppressing and the report says so

export interface IgnoreRule {
  id: string;
  package?: string;
  reason: string;
  /** YYYY-MM-DD; the entry applies through that day. */
  expires?: string;
}

export function parseIgnoreFile(text: string, file: string): IgnoreRule[] {
  let doc: unknown;
  try {
    doc = yaml().parse(text);
  } catch (e) {
    throw new ClairError('bad-input', `${file}: not YAML: ${errorMessage(e)}`);
  }
  if (doc === null || doc === undefined) return [];
  const list = (doc as { ignore?: unknown }).ignore;
  if (typeof doc !== 'object' || Array.isArray(doc) || (list !== undefined && !Array.isArray(list))) {
    throw new ClairError('bad-input', `${file}: expected a mapping with an "ignore" list`);
  }
  return (list ?? []).map((e: unknown, i: number) => {
    const where = `${file}: ignore[${i}]`;
    if (typeof e !== 'object' || e === null) throw new ClairError('bad-input', `${where}: expected a mapping with id and reason`);
    const o = e as Record<string, unknown>;
    const unknownKeys = Object.keys(o).filter((k) => !['id', 'package', 'reason', 'expires'].includes(k));
    if (unknownKeys.length > 0) throw new ClairError('bad-input', `${where}: unknown key ${unknownKeys.join(', ')} (known: id, package, reason, expires)`);
    if (typeof o.id !== 'string' || o.id.trim() === '') throw new ClairError('bad-input', `${where}: id (a vulnerability id or alias) is required`);
    if (typeof o.reason !== 'string' || o.reason.trim() === '') throw new ClairError('bad-input', `${where} (${o.id}): a reason is required`);
    if (o.package !== undefined && (typeof o.package !== 'string' || o.package === '')) throw new ClairError('bad-input', `${where} (${o.id}): package must be a name or purl pattern`);
    // YAML reads an unquoted 2027-03-31 as a date.
    let expires: string | undefined;
    if (o.expires instanceof Date) expires = o.expires.toISOString().slice(0, 10);
    else if (typeof o.expires === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(o.expires) && !Number.isNaN(Date.parse(o.expires))) expires = o.expires;
    else if (o.expires !== undefined) throw new ClairError('bad-input', `${where} (${o.id}): expires must be a date YYYY-MM-DD, not ${JSON.stringify(o.expires)}`);
    return { id: o.id.trim(), reason: o.reason.trim(), ...(typeof o.package === 'string' ? { package: o.package } : {}), ...(expires ? { expires } : {}) };
  });
}

/** Reads the ignore file; a missing default file is no rules, a missing named file an error. */
export async function loadIgnoreFile(file: string, required: boolean): Promise<IgnoreRule[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !required) return undefined;
    throw new ClairError('bad-input', `--ignore-file ${file}: ${errorMessage(e)}`);
  }
  return parseIgnoreFile(text, file);
}
