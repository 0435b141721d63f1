import { ClairError } from '../model/errors.ts';

// Durations as Clair's YAML writes them (Go's time.ParseDuration): "30m", "6h", "1h30m", "90s", "250ms".
// A bare number is refused: "30" could mean seconds or minutes, and a wrong guess is a silent misconfiguration.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds; throws ClairError('bad-input') naming `key` when the text is not a duration. */
export function parseDuration(text: string, key: string): number {
  const s = text.trim();
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (s === '' || matched !== s.length) {
    throw new ClairError('bad-input', `config key ${key}: ${JSON.stringify(text)} is not a duration (expected e.g. "30m", "6h", "1h30m", "90s")`);
  }
  return Math.round(total);
}

/** The inverse, for messages and the config reference: 21600000 → "6h". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
