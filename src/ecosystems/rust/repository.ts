import type { Repository } from '../../model/repository.ts';
import { isCratesIo } from './cargo-lock.ts';

// Rust crates are associated with where they came from. Matchers select crates.io; the others are inventoried under
// cargo's own names for their sources (as cargo-auditable records them), so a git fork or a workspace crate that
// shares a crates.io crate's name is never matched against that crate's advisories.

export const cratesIoRepository: Repository = { name: 'crates.io', key: '', uri: 'https://crates.io/', cpe: '' };
/** Workspace members and path dependencies (no `source` in Cargo.lock). */
export const localCrateRepository: Repository = { name: 'local', key: '', uri: '', cpe: '' };

/** A Cargo.lock `source` → its repository: crates.io, `git` with the repository URL, another `registry`, or local. */
export function cargoSourceRepository(source: string | undefined): Repository {
  if (source === undefined) return localCrateRepository;
  if (isCratesIo(source)) return cratesIoRepository;
  const plus = source.indexOf('+');
  const kind = plus > 0 ? source.slice(0, plus) : source;
  // git+https://github.com/o/r?rev=x#commit → https://github.com/o/r: the commit is a version, not a repository.
  const uri = (plus > 0 ? source.slice(plus + 1) : '').replace(/[?#].*$/, '');
  return { name: kind === 'sparse' ? 'registry' : kind, key: '', uri, cpe: '' };
}

/** cargo-auditable's source names ("crates.io", "git", "local", "registry", other) → repository. */
export function auditableSourceRepository(source: string): Repository {
  if (source === 'crates.io') return cratesIoRepository;
  if (source === 'local') return localCrateRepository;
  return { name: source, key: '', uri: '', cpe: '' };
}
