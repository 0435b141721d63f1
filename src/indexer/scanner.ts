import type { Distribution } from '../model/distribution.ts';
import type { FileOwnersFinding, PackageDbFinding } from '../model/layer-report.ts';
import type { Repository } from '../model/repository.ts';

// Trivy-style scanners: each declares the paths it wants; the layer walker reads a layer's tar once and hands each
// scanner only the files it asked for. A scanner's `version` keys the layer cache: bump it when its output changes.

/** A regular file from a layer, path relative to the root without a leading "/" or "./". */
export interface LayerFile {
  path: string;
  data: Buffer;
  mode: number;
}

export interface FileRequest {
  path: string;
  size: number;
  mode: number;
  /**
   * Where the file is: a layer of an image (the default) or a `dir:` source tree. Language scanners read lockfiles
   * only in source trees: in an image, what is installed counts, not what a stray lockfile lists.
   */
  origin?: 'layer' | 'directory';
}

/** What one scanner found in one layer, keyed by where it was found so whiteouts in later layers can remove it. */
export interface ScanFindings {
  /** Package databases, each keyed by its path in the layer (the unit a whiteout removes). */
  packageDbs?: PackageDbFinding[];
  /** Distribution release files (os-release and friends), each keyed by its path. */
  distributions?: { path: string; distribution: Distribution; priority: number }[];
  /**
   * Repositories, keyed by the file they came from. `packageDbPrefixes` associates them with the packages of every
   * package database whose path starts with one of the prefixes (e.g. Red Hat content manifests name the
   * repositories every rpm package came from); without it they are not associated with any package.
   */
  repositories?: { path: string; repositories: Repository[]; packageDbPrefixes?: string[] }[];
  /** OS packages' file lists, to mark the language packages they own (Package.ownedBy). */
  fileOwners?: FileOwnersFinding[];
  /** Files the scanner could not read: reported in the IndexReport's err, never silently dropped. */
  errors?: string[];
}

export interface Scanner {
  readonly name: string;
  readonly version: string;
  readonly kind: 'package' | 'distribution' | 'repository';
  /** Whether the walker should hand this file to the scanner. Called for every regular file: keep it cheap. */
  wants(file: FileRequest): boolean;
  /**
   * Largest file it will take; bigger wanted files are reported as errors (in the IndexReport's err) and not read.
   * Default 256 MiB (DEFAULT_MAX_FILE_SIZE in layer-walker.ts). For a buffering scanner this bounds the memory one
   * file takes; the walker also bounds the sum over a layer (DEFAULT_MAX_LAYER_BUFFERED).
   */
  readonly maxFileSize?: number;
  /**
   * Language scanners: whether an OS package's file list entry at this path (relative, no leading "/") could be a
   * metadata file this scanner reads, i.e. a packageDbs[].path it would report. OS file lists are kept for such paths
   * only, so layer reports stay small. Path-only: it is asked for every listed file.
   */
  ownable?(path: string): boolean;
  /**
   * Streaming scanners read each wanted file as its bytes arrive, holding only what they parsed (dpkg's status):
   * memory does not grow with the file. When present, the walker uses it instead of scan().
   */
  openFile?(file: FileRequest): FileSink;
  /**
   * Streaming scanners whose findings in a file depend on its bytes alone, the path only labelling them (the ELF
   * readers: Go build info, cargo-auditable): true when the files at these two paths are read the same way. A wanted
   * hard link whose target entry such a scanner already read, the same way, and found nothing in is not read again
   * under the link's name: the same bytes would give nothing again. Debian images hard-link executables
   * (perl5.36.0, bzcat, uncompress), and re-reading a layer for them doubled its cost (issue 17).
   */
  readsAlike?(path: string, other: string): boolean;
  /** Called once per layer with every file it wanted (possibly none: then not called). */
  scan(files: LayerFile[]): Promise<ScanFindings> | ScanFindings;
}

/**
 * Receives one file's bytes in order, then end() once; end() returns what the file held. The chunks stay valid until
 * end() has returned; their memory may be reused after that (the walker reads one file at a time into a reused
 * buffer), so what a sink keeps past end() (in its findings) must be copies (strings, parsed values).
 */
export interface FileSink {
  write(chunk: Buffer): void;
  end(): ScanFindings;
}
