import { errorMessage } from '../model/errors.ts';
import { printable } from '../model/printable.ts';
import type { FileSink, LayerFile, ScanFindings, Scanner } from './scanner.ts';

// What the two walkers (a layer's tar, a `dir:` tree) share: which scanners take a file, the memory limits, the
// whiteouts, and running the scanners once the walk is over. The walkers only differ in where entries come from.
//
// Streaming scanners (Scanner.openFile) get a file's bytes as they arrive and hold only what they parsed; buffering
// scanners get whole files, bounded per file (Scanner.maxFileSize) and per layer (maxLayerBuffered). A file over
// either limit is not read and the report's err says so: memory never grows with what an image chooses to hold.

/** Largest file a scanner takes unless it says otherwise. */
export const DEFAULT_MAX_FILE_SIZE = 256 * 1024 * 1024;
/** Sum of the files buffering scanners may hold for one layer. */
export const DEFAULT_MAX_LAYER_BUFFERED = 512 * 1024 * 1024;

/** A wanted path that the layer holds as a hard link: its content is the (earlier) target entry's. */
export interface HardLink {
  path: string;
  target: string;
  mode: number;
}

export interface WalkResult {
  findings: ScanFindings[];
  whiteouts: string[];
  opaqueDirs: string[];
  errors: string[];
  /** Wanted paths that are hard links: a second pass (walkHardLinkTargets) reads their targets. */
  hardLinks?: HardLink[];
}

export interface WalkOptions {
  maxLayerBuffered?: number;
}

/** One file on its way to its scanners: write() its bytes in order, then end(). */
export interface FileReceiver {
  write(chunk: Buffer): void;
  end(): void;
}

export class LayerScan {
  readonly #scanners: readonly Scanner[];
  readonly #origin: 'layer' | 'directory';
  readonly #maxLayer: number;
  readonly #wanted = new Map<Scanner, LayerFile[]>();
  #bufferedBytes = 0;
  readonly #streamed: ScanFindings[] = [];
  readonly whiteouts: string[] = [];
  readonly opaqueDirs: string[] = [];
  readonly errors: string[] = [];
  readonly hardLinks: HardLink[] = [];
  /** Paths read by readsAlike scanners that found nothing there, with those scanners (see hardLinkNeeded). */
  readonly #foundNothing = new Map<string, Scanner[]>();

  constructor(scanners: readonly Scanner[], origin: 'layer' | 'directory', opts: WalkOptions = {}) {
    this.#scanners = scanners;
    this.#origin = origin;
    this.#maxLayer = opts.maxLayerBuffered ?? DEFAULT_MAX_LAYER_BUFFERED;
  }

  /** Whether any scanner wants this path (size unknown: a hard link's). */
  wanted(path: string, mode: number): boolean {
    const req = { path, size: 0, mode, origin: this.#origin };
    return this.#scanners.some((s) => s.wants(req));
  }

  /**
   * Whether a hard link at `path` to `target` (an earlier entry) must be read in a second pass: some scanner wants
   * the path, and not every one of them is a scanner that reads both paths alike (Scanner.readsAlike) and already
   * found nothing in the target.
   */
  hardLinkNeeded(path: string, target: string, mode: number): boolean {
    const req = { path, size: 0, mode, origin: this.#origin };
    const wanting = this.#scanners.filter((s) => s.wants(req));
    if (wanting.length === 0) return false;
    const nothing = this.#foundNothing.get(target);
    return nothing === undefined || !wanting.every((s) => nothing.includes(s) && s.readsAlike!(path, target));
  }

  /** The scanners that will read this regular file (none: skip its bytes). Files over a taker's limit are reported. */
  takers(path: string, size: number, mode: number): Scanner[] {
    const req = { path, size, mode, origin: this.#origin };
    const takers = this.#scanners.filter((s) => s.wants(req));
    if (takers.length === 0) return takers;
    return takers.filter((s) => {
      const max = s.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
      if (size <= max) return true;
      this.errors.push(`${s.name}: ${path} is ${size} bytes, over the ${max} byte limit for one file; not read`);
      return false;
    });
  }

  /**
   * Where the bytes of a file the takers want go: streaming scanners' sinks, and a buffer for the others when the
   * layer's budget allows (else an error for them). Undefined when nobody will read it: skip its bytes.
   */
  open(path: string, size: number, mode: number, takers: readonly Scanner[]): FileReceiver | undefined {
    const sinks: { scanner: Scanner; sink: FileSink }[] = [];
    const buffering: Scanner[] = [];
    for (const s of takers) {
      if (!s.openFile) {
        buffering.push(s);
        continue;
      }
      try {
        sinks.push({ scanner: s, sink: s.openFile({ path, size, mode, origin: this.#origin }) });
      } catch (e) {
        this.errors.push(`${s.name}: ${path}: ${printable(errorMessage(e))}`);
      }
    }
    let keep = buffering.length > 0;
    if (keep && this.#bufferedBytes + size > this.#maxLayer) {
      for (const s of buffering) {
        this.errors.push(`${s.name}: ${path} is ${size} bytes and the layer's files already take ${this.#bufferedBytes}, over the ${this.#maxLayer} byte limit for one layer; not read`);
      }
      keep = false;
    }
    if (sinks.length === 0 && !keep) return undefined;
    if (keep) this.#bufferedBytes += size;
    const chunks: Buffer[] = [];
    const fail = (s: Scanner, e: unknown) => this.errors.push(`${s.name}: ${path}: ${printable(errorMessage(e))}`);
    return {
      write: (c) => {
        if (keep) chunks.push(c);
        for (let i = 0; i < sinks.length; i++) {
          try {
            sinks[i]!.sink.write(c);
          } catch (e) {
            fail(sinks[i]!.scanner, e);
            sinks.splice(i--, 1);
          }
        }
      },
      end: () => {
        for (const { scanner, sink } of sinks) {
          try {
            const found = sink.end();
            this.#streamed.push(found);
            if (scanner.readsAlike && isEmpty(found)) {
              let list = this.#foundNothing.get(path);
              if (!list) this.#foundNothing.set(path, (list = []));
              list.push(scanner);
            }
          } catch (e) {
            fail(scanner, e);
          }
        }
        if (keep) this.add({ path, data: Buffer.concat(chunks), mode }, buffering);
      },
    };
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
    const findings: ScanFindings[] = this.#streamed.slice();
    for (const [scanner, files] of this.#wanted) {
      try {
        findings.push(await scanner.scan(files));
      } catch (e) {
        this.errors.push(`${scanner.name}: ${printable(errorMessage(e))}`);
      }
    }
    this.#wanted.clear();
    // OS file lists hold every file of every package; only the paths a language scanner could report matter.
    const predicates = this.#scanners.filter((s) => s.ownable).map((s) => s.ownable!.bind(s));
    const ownable = (p: string): boolean => predicates.some((own) => own(p));
    for (const f of findings) {
      if (!f.fileOwners) continue;
      f.fileOwners = f.fileOwners
        .map((fo) => ({
          path: fo.path,
          owners: fo.owners
            .map((o) => ({ owner: o.owner, files: o.files.filter(ownable) }))
            .filter((o) => o.files.length > 0),
        }));
        // A list left empty is kept: it still replaces what a lower layer had at its path.
    }
    return { findings, whiteouts: this.whiteouts, opaqueDirs: this.opaqueDirs, errors: this.errors, hardLinks: this.hardLinks };
  }
}

function isEmpty(f: ScanFindings): boolean {
  return !f.packageDbs?.length && !f.distributions?.length && !f.repositories?.length && !f.fileOwners?.length && !f.errors?.length;
}
