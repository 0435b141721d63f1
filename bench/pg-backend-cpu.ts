import { readFileSync } from 'node:fs';
import pg from 'pg';

// CPU time the PostgreSQL sessions of one application_name have used, read from /proc: for a server on this
// machine (the bench's), what the database spends per request beside the service's own CPU. Sessions that appear
// between two readings count from zero (their whole life is inside the window); ones that end are not counted.

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
  return {
    async read() {
      const pids = (await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName])).rows.map((r) => r.pid);
      let n = 0;
      for (const pid of pids) {
        try {
          n += ticks(pid);
        } catch {
          // ended since the query
        }
      }
      return n * TICK_MS;
    },
    close: () => c.end(),
  };
}
