import { Readable } from 'node:stream';
import { main } from '../../src/cli/main.ts';

// Runs the clair-ts command line in-process, as a CI pipeline would run the binary: exit code, stdout, stderr.
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** `env`: variables besides CLAIR_TS_DB (the process's own environment is not passed). */
export async function runCli(db: string, args: string[], stdin = '', env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await main(args, {
    stdout: (s) => (out += typeof s === 'string' ? s : Buffer.from(s).toString('utf8')), stderr: (s) => (err += s), stdin: Readable.from([stdin]), env: { ...env, CLAIR_TS_DB: db }, isTTY: false,
  });
  return { code, out, err };
}
