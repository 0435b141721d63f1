import type { FileRequest, FileSink, ScanFindings, Scanner } from '../../indexer/scanner.ts';
import { errorMessage } from '../../model/errors.ts';
import type { ByteSource } from '../elf/elf-file.ts';
import { elfFileSink, isExecutable, mayBeInstalledExecutable, scanWhole } from '../elf/elf-sink.ts';
import { readGoBuildInfo } from './build-info.ts';
import { parseGoMod, resolveRequire } from './go-mod.ts';
import { buildInfoPackages, goPackage } from './packages.ts';
import { goRepository } from './repository.ts';

// Go modules in a layer or a source tree:
// - every executable ELF file is read for Go build info (main module, dependencies after `=>` replacements, the
//   toolchain as `stdlib`); an executable that is not ELF, or an ELF binary without Go build info, yields nothing;
// - in `dir:` scans only, go.mod files (their requirements after replace directives; not the module itself, whose
//   code is the tree being scanned). In an image a go.mod is source, not something installed: binaries are.
// Binaries stream in one at a time (elf-sink.ts); memory is bounded by the largest binary, not by the layer.

/** Larger than any real Go binary (kubelet ~110 MB, terraform ~90 MB); bigger executables are reported, not read. */
const MAX_BINARY = 512 * 1024 * 1024;
/** Kubernetes' go.mod is 10 KB. */
const MAX_GO_MOD = 4 * 1024 * 1024;

function isGoMod(path: string): boolean {
  if (path !== 'go.mod' && !path.endsWith('/go.mod')) return false;
  // Vendored copies and test fixtures are not the project's own requirements.
  return !/(^|\/)(vendor|testdata)\//.test(path);
}

function readBinary(path: string, data: ByteSource): ScanFindings {
  try {
    const info = readGoBuildInfo(data);
    if (!info) return {};
    const packages = buildInfoPackages(info, path);
    return packages.length ? { packageDbs: [{ path, packages, repository: goRepository }] } : {};
  } catch (e) {
    // A malformed ELF executable (truncated, lying headers): said once, by this scanner; the layer goes on.
    return { errors: [`${path}: ${errorMessage(e)}`] };
  }
}

function readGoMod(path: string, text: string): ScanFindings {
  try {
    const mod = parseGoMod(text, path);
    const packages = mod.require.map((r) => {
      const m = resolveRequire(mod, r);
      return goPackage(m.path, m.version, path);
    });
    return packages.length ? { packageDbs: [{ path, packages, repository: goRepository }] } : {};
  } catch (e) {
    return { errors: [errorMessage(e)] };
  }
}

function openFile(file: FileRequest): FileSink {
  if (isGoMod(file.path) && file.origin === 'directory') {
    if (file.size > MAX_GO_MOD) return { write: () => {}, end: () => ({ errors: [`${file.path} is ${file.size} bytes, over the ${MAX_GO_MOD}-byte limit for a go.mod; not read`] }) };
    const chunks: Buffer[] = [];
    return { write: (c) => void chunks.push(c), end: () => readGoMod(file.path, Buffer.concat(chunks).toString('utf8')) };
  }
  return elfFileSink(file, (data) => readBinary(file.path, data));
}

export const goScanner: Scanner = {
  name: 'go',
  version: '2',
  kind: 'package',
  maxFileSize: MAX_BINARY,
  wants: ({ path, mode, origin }) => isExecutable(mode) || (origin === 'directory' && isGoMod(path)),
  // A distribution's Go binaries (Debian's age, docker.io) are its packages: their vulnerabilities come from its feed.
  ownable: mayBeInstalledExecutable,
  openFile,
  // Executables are read by their bytes alone (the path labels the findings); a go.mod is read as a go.mod.
  readsAlike: (path, other) => !isGoMod(path) && !isGoMod(other),
  scan: (files) => scanWhole(files, openFile),
};
