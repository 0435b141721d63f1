import { createHash } from 'node:crypto';
import { ClairError } from '../../model/errors.ts';

// Red Hat's repository-to-CPE mapping (https://security.access.redhat.com/data/metrics/repository-to-cpe.json):
// {"data": {"<content set / repository id>": {"cpes": ["cpe:/o:redhat:enterprise_linux:8::baseos", …]}, …}}.
// It turns the content sets an image's content manifest names into the CPEs VEX records are written against.
//
// The indexer reads a local copy (download it next to the VEX mirror) named in its configuration: see
// src/config/ecosystem-options.ts. Without it, content sets are still reported but carry no CPE, and the matcher
// falls back to the release CPE.

export interface RepositoryCpeMapping {
  /** Content set → CPE names (URI binding). */
  cpes: ReadonlyMap<string, readonly string[]>;
  /** sha256 of the file, part of the scanner version so cached layers are rescanned when the mapping changes. */
  digest: string;
}

export function parseRepositoryCpeMapping(bytes: Buffer, source: string): RepositoryCpeMapping {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new ClairError('bad-input', `repository-to-cpe mapping ${source} is not JSON: ${(e as Error).message}`);
  }
  const data = (doc as { data?: unknown } | null)?.data;
  if (typeof data !== 'object' || data === null) throw new ClairError('bad-input', `repository-to-cpe mapping ${source} has no "data" object`);
  const cpes = new Map<string, string[]>();
  for (const [repo, entry] of Object.entries(data as Record<string, unknown>)) {
    const list = (entry as { cpes?: unknown } | null)?.cpes;
    if (Array.isArray(list)) cpes.set(repo, list.filter((c): c is string => typeof c === 'string'));
  }
  return { cpes, digest: createHash('sha256').update(bytes).digest('hex') };
}
