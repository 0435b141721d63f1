import { readFileSync } from 'node:fs';

/** The rows of a tab-separated vector file in this folder, `#` comment lines skipped; each row has `columns` fields. */
export function readVectors(name: string, columns: number): string[][] {
  const text = readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const cols = l.split('\t');
      if (cols.length !== columns) throw new Error(`${name}: bad vector line ${JSON.stringify(l)}`);
      return cols;
    });
}
