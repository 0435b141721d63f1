// The pair mix shared by the language vector generators: hand-written edge cases, versions of the same
// package (the pairs a matcher really compares), versions from a "special" pool (pre-releases, odd forms)
// against any, small edits of real versions, random pairs, and a few identical pairs. Deterministic for a seed.

import { seededRandom } from './seeded-random.ts';

export interface PairSource {
  byPackage: Map<string, Set<string>>;
  /** versions worth extra weight (pre-releases, metadata, unusual separators) */
  special: string[];
  edge: Array<[string, string]>;
  mutations: Array<(v: string) => string>;
  target: number;
  seed: number;
}

export function drawPairs(src: PairSource): { pairs: Array<[string, string]>; distinct: number } {
  const { rand, pick } = seededRandom(src.seed);
  const all = [...new Set([...src.byPackage.values()].flatMap((s) => [...s]))].sort();
  const multi = [...src.byPackage.values()].filter((s) => s.size >= 2).map((s) => [...s].sort());
  const special = src.special.length > 0 ? src.special : all;
  const pairs = new Map<string, [string, string]>();
  const add = (a: string, b: string) => {
    if (/[\t\n\r]/.test(a + b)) return;
    if (rand() < 0.5) [a, b] = [b, a];
    pairs.set(`${a}\t${b}`, [a, b]);
  };
  for (const [a, b] of src.edge) add(a, b);
  const T = src.target;
  let guard = 0;
  const until = (frac: number, f: () => void) => {
    guard = 0;
    while (pairs.size < frac * T && guard++ < 50 * T) f();
  };
  if (multi.length > 0) {
    until(0.4, () => {
      const vs = pick(multi);
      const a = pick(vs), b = pick(vs);
      if (a !== b) add(a, b);
    });
  }
  until(0.55, () => add(pick(special), pick(rand() < 0.5 ? special : all)));
  until(0.78, () => {
    const v = pick(all);
    add(v, pick(src.mutations)(v));
  });
  until(0.97, () => add(pick(all), pick(all)));
  for (let i = 0; i < 0.03 * T; i++) {
    const v = pick(all);
    if (!/[\t\n\r]/.test(v)) pairs.set(`${v}\t${v}`, [v, v]);
  }
  return { pairs: [...pairs.values()], distinct: all.length };
}

/** Mutations that make sense for most dotted-number schemes. */
export const commonMutations: Array<(v: string) => string> = [
  (v) => v.replace(/(\d+)(?!.*\d)/, (d) => String(Number(d) + 1)),
  (v) => v.replace(/\.(\d)/, '.0$1'),
  (v) => `${v}.0`,
  (v) => v.replace(/\.\d+$/, ''),
  (v) => v.toUpperCase(),
  (v) => v.replace(/[-.+_]/, ''),
];
