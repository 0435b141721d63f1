// Batch comparison for the CLI: lines "A<TAB>B" in, one "-1", "0" or "1" per line out, so scripts can
// check many pairs with one process. Empty lines are skipped (and produce no output). A line that cannot be
// compared (no tab, or a version the scheme rejects) does not stop the batch: its output line is "error", so the
// output stays aligned with the input, and the reason goes to `reportError` with the line number.

import { errorMessage, isClairError } from '../model/errors.ts';
import type { VersionScheme } from './scheme.ts';

export interface CompareLinesResult {
  /** Pairs compared. */
  compared: number;
  /** Lines answered with "error". */
  errors: number;
}

/** Compare each "A<TAB>B" line of `input` with `scheme` and `write` the result, or "error" for a bad line. */
export async function compareLines(
  scheme: VersionScheme,
  input: AsyncIterable<string>,
  write: (line: string) => void,
  reportError: (message: string) => void = () => {},
): Promise<CompareLinesResult> {
  let lineNo = 0;
  let compared = 0;
  let errors = 0;
  const bad = (message: string): void => {
    errors++;
    write('error');
    reportError(`line ${lineNo}: ${message}`);
  };
  for await (const raw of input) {
    lineNo++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    const tab = line.indexOf('\t');
    if (tab < 0 || line.indexOf('\t', tab + 1) >= 0) {
      bad(`expected "A<TAB>B", got ${JSON.stringify(line.slice(0, 200))}`);
      continue;
    }
    let r: number;
    try {
      r = scheme.compare(line.slice(0, tab), line.slice(tab + 1));
    } catch (e) {
      if (!isClairError(e) || e.code !== 'bad-input') throw e;
      bad(errorMessage(e));
      continue;
    }
    write(String(r));
    compared++;
  }
  return { compared, errors };
}
