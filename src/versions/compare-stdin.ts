// Batch comparison for the CLI: lines "A<TAB>B" in, one "-1", "0" or "1" per line out, so scripts can
// check many pairs with one process. Empty lines are skipped (and produce no output).

import { ClairError, errorMessage, isClairError } from '../model/errors.ts';
import type { VersionScheme } from './scheme.ts';

/**
 * Compare each "A<TAB>B" line of `input` with `scheme` and `write` the result. Returns the number of
 * pairs compared. Throws ClairError('bad-input', 'line N: …') for a line without exactly one tab or with
 * a version the scheme rejects.
 */
export async function compareLines(
  scheme: VersionScheme,
  input: AsyncIterable<string>,
  write: (line: string) => void,
): Promise<number> {
  let lineNo = 0;
  let count = 0;
  for await (const raw of input) {
    lineNo++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    const tab = line.indexOf('\t');
    if (tab < 0 || line.indexOf('\t', tab + 1) >= 0) {
      throw new ClairError('bad-input', `line ${lineNo}: expected "A<TAB>B", got ${JSON.stringify(line.slice(0, 200))}`);
    }
    let r: number;
    try {
      r = scheme.compare(line.slice(0, tab), line.slice(tab + 1));
    } catch (e) {
      if (isClairError(e) && e.code === 'bad-input') {
        throw new ClairError('bad-input', `line ${lineNo}: ${errorMessage(e)}`, { cause: e });
      }
      throw e;
    }
    write(String(r));
    count++;
  }
  return count;
}
