import type { Readable } from 'node:stream';

/** What a command may touch, passed in so tests run commands in-process. */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stdin: Readable;
  env: NodeJS.ProcessEnv;
  /** Progress lines go to stderr only on a terminal. */
  isTTY: boolean;
}

export function processIo(): CliIo {
  return {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    stdin: process.stdin,
    env: process.env,
    isTTY: Boolean(process.stderr.isTTY),
  };
}
