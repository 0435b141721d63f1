import { readFileSync } from 'node:fs';
import pg from 'pg';

// CPU time the PostgreSQL sessions of one application_name have used, read from /proc: for a server on this
// machine (the bench's), what the database spends per request beside the service's own CPU. Sessions that appear
// between two readings count from zero (their whole life is inside the window); what a session used after the
// last reading before it ended is not counted.

const TICK_MS = 10; // USER_HZ = 100 on Linux

export async function pgBackendCpu(url: string, applicationName: string): Promise<{ read(): Promise<number>; close(): Promise<void> } | undefined> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const ticks = (pid: number) => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
  };
  const self = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  try {
    ticks(self);
  } catch {
    await c.end(); // not a local server: /proc does not show its processes
    return undefined;
  }
  // A running total, advanced per session: each reading adds what every live session used since the last one (a
  // new session from zero). Summing the live sessions instead made a window's difference negative when a session
  // that had been counted at its start ended before its end.
  const last = new Map<number, number>();
  let total = 0;
  return {
    async read() {
      const pids = (await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName])).rows.map((r) => r.pid);
      const seen = new Set<number>();
      for (const pid of pids) {
        try {
          const t = ticks(pid);
          total += t - (last.get(pid) ?? 0);
          last.set(pid, t);
          seen.add(pid);
        } catch {
          // ended since the query
        }
      }
      for (const pid of last.keys()) if (!seen.has(pid)) last.delete(pid);
      return total * TICK_MS;
    },
    close: () => c.end(),
  };
}
