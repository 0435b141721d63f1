import { homedir } from 'node:os';
import { join } from 'node:path';

// Where data is stored: --db, else CLAIR_TS_DB, else the XDG data directory. `serve` and the CLI share the rule, so
// `clair-ts index` and `clair-ts serve` see the same database.
export function resolveDbLocation(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  if (env.CLAIR_TS_DB) return env.CLAIR_TS_DB;
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'clair-ts', 'clair-ts.db');
}
