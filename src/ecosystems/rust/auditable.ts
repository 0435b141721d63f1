import { inflateSync } from 'node:zlib';
import { ClairError } from '../../model/errors.ts';
import { findSection, parseElf, sectionData, type ByteSource } from '../elf/elf-file.ts';

// Dependency lists that cargo-auditable embeds in Rust binaries: an ELF section `.dep-v0` holding zlib-compressed
// JSON, {"format"?: n, "packages": [{name, version, source, kind?, dependencies?, root?}]}
// (schema: cargo-auditable.schema.json in rust-secure-code/cargo-auditable). `source` is "crates.io", "git", "local",
// "registry" or another string; `kind` is "build" or "runtime" (omitted = runtime).

const SECTION = '.dep-v0';
/** cargo-auditable's own reader caps the decompressed data at 8 MiB; a real list of 1000 crates is ~100 KB. */
export const MAX_AUDIT_JSON = 8 * 1024 * 1024;

export interface AuditablePackage {
  name: string;
  version: string;
  source: string;
  kind: 'build' | 'runtime';
  root: boolean;
}

/** The packages a cargo-auditable binary records; undefined when it has no .dep-v0 section. Throws on a corrupt one. */
export function readAuditableDeps(data: Buffer | ByteSource, file: string): AuditablePackage[] | undefined {
  const elf = parseElf(data);
  const section = findSection(elf, SECTION);
  if (!section) return undefined;
  let json: string;
  try {
    // Compressed JSON is smaller than what it inflates to, which is capped: a larger section is not cargo-auditable's.
    const compressed = sectionData(elf, section, MAX_AUDIT_JSON);
    json = inflateSync(compressed, { maxOutputLength: MAX_AUDIT_JSON }).toString('utf8');
  } catch (e) {
    throw new ClairError('bad-input', `${file}: ${SECTION} section is unreadable: ${(e as Error).message}`, { cause: e });
  }
  let doc: { packages?: unknown };
  try {
    doc = JSON.parse(json) as { packages?: unknown };
  } catch (e) {
    throw new ClairError('bad-input', `${file}: ${SECTION} section is not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!Array.isArray(doc?.packages)) throw new ClairError('bad-input', `${file}: ${SECTION} has no packages array`);
  return doc.packages.map((p: unknown, i): AuditablePackage => {
    const e = p as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || typeof e.name !== 'string' || typeof e.version !== 'string') {
      throw new ClairError('bad-input', `${file}: ${SECTION} package #${i + 1} has no string name and version`);
    }
    return { name: e.name, version: e.version, source: sourceName(e.source), kind: e.kind === 'build' ? 'build' : 'runtime', root: e.root === true };
  });
}

function sourceName(s: unknown): string {
  if (typeof s === 'string') return s === 'CratesIo' ? 'crates.io' : s.toLowerCase();
  if (typeof s === 'object' && s !== null && typeof (s as { Other?: unknown }).Other === 'string') return (s as { Other: string }).Other;
  return 'unknown';
}
