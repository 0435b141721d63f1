import type { Readable } from 'node:stream';

/** What a command may touch, passed in so tests run commands in-process. */
export interface CliIo {
  /** Bytes are UTF-8 text (a stored report written as it was stored). */
  stdout: (s: string | Uint8Array) => void;
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
