import type { LayerFile, ScanFindings, Scanner } from './scanner.ts';

// What the two walkers (a layer's tar, a `dir:` tree) share: which scanners take a file, the size limit, the
// whiteouts, and running the scanners once the walk is over. The walkers only differ in where entries come from.

const DEFAULT_MAX_FILE = 256 * 1024 * 1024;

export interface WalkResult {
  findings: ScanFindings[];
  whiteouts: string[];
  opaqueDirs: string[];
  errors: string[];
}

export class LayerScan {
  readonly #scanners: readonly Scanner[];
  readonly #origin: 'layer' | 'directory';
  readonly #wanted = new Map<Scanner, LayerFile[]>();
  readonly whiteouts: string[] = [];
  readonly opaqueDirs: string[] = [];
  readonly errors: string[] = [];

  constructor(scanners: readonly Scanner[], origin: 'layer' | 'directory') {
    this.#scanners = scanners;
    this.#origin = origin;
  }

  /** The scanners that will read this regular file (none: skip its bytes). Files over a taker's limit are reported. */
  takers(path: string, size: number, mode: number): Scanner[] {
    const req = { path, size, mode, origin: this.#origin };
    const takers = this.#scanners.filter((s) => s.wants(req));
    if (takers.length === 0) return takers;
    return takers.filter((s) => {
      const max = s.maxFileSize ?? DEFAULT_MAX_FILE;
      if (size <= max) return true;
      this.errors.push(`${s.name}: ${path} is ${size} bytes, over the ${max} byte limit; not read`);
      return false;
    });
  }

  add(file: LayerFile, takers: readonly Scanner[]): void {
    for (const s of takers) {
      let list = this.#wanted.get(s);
      if (!list) this.#wanted.set(s, (list = []));
      list.push(file);
    }
  }

  /** Runs each scanner over the files it took; a scanner that fails is an error of the layer, not an empty layer. */
  async finish(): Promise<WalkResult> {
    const findings: ScanFindings[] = [];
    for (const [scanner, files] of this.#wanted) {
      try {
        findings.push(await scanner.scan(files));
      } catch (e) {
        this.errors.push(`${scanner.name}: ${(e as Error).message}`);
      }
    }
    // OS file lists hold every file of every package; only the paths a language scanner could report matter.
    const ownable = this.#scanners.filter((s) => s.ownable).map((s) => s.ownable!.bind(s));
    for (const f of findings) {
      if (!f.fileOwners) continue;
      f.fileOwners = f.fileOwners
        .map((fo) => ({
          path: fo.path,
          owners: fo.owners
            .map((o) => ({ owner: o.owner, files: o.files.filter((p) => ownable.some((own) => own(p))) }))
            .filter((o) => o.files.length > 0),
        }));
        // A list left empty is kept: it still replaces what a lower layer had at its path.
    }
    return { findings, whiteouts: this.whiteouts, opaqueDirs: this.opaqueDirs, errors: this.errors };
  }
}
