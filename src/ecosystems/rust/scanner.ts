import type { FileRequest, FileSink, ScanFindings, Scanner } from '../../indexer/scanner.ts';
import type { PackageDbFinding } from '../../model/layer-report.ts';
import type { Package } from '../../model/package.ts';
import { repositoryKey, type Repository } from '../../model/repository.ts';
import { errorMessage, isClairError } from '../../model/errors.ts';
import type { ByteSource } from '../elf/elf-file.ts';
import { elfFileSink, isExecutable, mayBeInstalledExecutable, scanWhole } from '../elf/elf-sink.ts';
import { readAuditableDeps } from './auditable.ts';
import { parseCargoLock } from './cargo-lock.ts';
import { auditableSourceRepository, cargoSourceRepository } from './repository.ts';

// Rust crates, in layers and source trees alike:
// - Cargo.lock files, all formats: in images too (the one lockfile reported there, since a Rust binary keeps no
//   other trace of its crates unless built with cargo-auditable); every [[package]] entry, each under its source's
//   repository (crates.io, git, local), packageDb `cargo:<path>`;
// - executables built with cargo-auditable (a `.dep-v0` section): the crates compiled into them, build-only
//   dependencies (proc-macros, build scripts) left out since their code is not in the binary.

const MAX_FILE = 512 * 1024 * 1024;
/** Kata's 901-package workspace lockfile is 236 KB; a lockfile 100 times larger is not one. */
const MAX_LOCKFILE = 32 * 1024 * 1024;

function refuse(message: string): FileSink {
  return { write: () => {}, end: () => ({ errors: [message] }) };
}

function isCargoLock(path: string): boolean {
  return path === 'Cargo.lock' || path.endsWith('/Cargo.lock');
}

function crate(name: string, version: string, file: string): Package {
  return { name, version, kind: 'binary', arch: '', module: '', cpe: '', packageDb: `cargo:${file}`, repositoryHint: '' };
}

/** One finding per repository, all keyed by the file: a whiteout or a rewrite of the file replaces them together. */
function byRepository(path: string, entries: { pkg: Package; repository: Repository }[]): PackageDbFinding[] {
  const groups = new Map<string, PackageDbFinding>();
  for (const { pkg, repository } of entries) {
    const k = repositoryKey(repository);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { path, packages: [], repository }));
    g.packages.push(pkg);
  }
  return [...groups.values()];
}

function readLockfile(path: string, text: string): ScanFindings {
  try {
    const lock = parseCargoLock(text, path);
    return { packageDbs: byRepository(path, lock.packages.map((p) => ({ pkg: crate(p.name, p.version, path), repository: cargoSourceRepository(p.source) }))) };
  } catch (e) {
    return { errors: [errorMessage(e)] };
  }
}

function readBinary(path: string, data: ByteSource): ScanFindings {
  let deps;
  try {
    deps = readAuditableDeps(data, path);
  } catch (e) {
    // ELF headers that do not parse are reported by the Go scanner, which reads every executable too; a broken
    // .dep-v0 section is this scanner's to report.
    if (isClairError(e) && e.message.startsWith('malformed ELF file')) return {};
    return { errors: [errorMessage(e)] };
  }
  if (!deps) return {};
  const runtime = deps.filter((d) => d.kind === 'runtime');
  return { packageDbs: byRepository(path, runtime.map((d) => ({ pkg: crate(d.name, d.version, path), repository: auditableSourceRepository(d.source) }))) };
}

function openFile(file: FileRequest): FileSink {
  if (isCargoLock(file.path)) {
    if (file.size > MAX_LOCKFILE) return refuse(`${file.path} is ${file.size} bytes, over the ${MAX_LOCKFILE}-byte limit for a Cargo.lock; not read`);
    const chunks: Buffer[] = [];
    return { write: (c) => void chunks.push(c), end: () => readLockfile(file.path, Buffer.concat(chunks).toString('utf8')) };
  }
  return elfFileSink(file, (data) => readBinary(file.path, data));
}

export const rustScanner: Scanner = {
  name: 'rust',
  version: '2',
  kind: 'package',
  maxFileSize: MAX_FILE,
  wants: ({ path, mode }) => isCargoLock(path) || isExecutable(mode),
  ownable: (path) => isCargoLock(path) || mayBeInstalledExecutable(path),
  openFile,
  // Executables are read by their bytes alone (the path labels the findings); a Cargo.lock is read as a lockfile.
  readsAlike: (path, other) => !isCargoLock(path) && !isCargoLock(other),
  scan: (files) => scanWhole(files, openFile),
};
