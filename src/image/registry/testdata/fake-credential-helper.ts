// Installs the fake credential helper (docker-credential-fake, a POSIX sh script in this folder) under the
// names a test needs, in a temp bin/ folder that the returned env puts first on PATH. Tests pass that env
// to findCredentials / openRegistryImage, which hand it on to the helpers they run.

import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const SCRIPT = join(import.meta.dirname, 'docker-credential-fake');

export interface FakeAnswer {
  /** Printed on stdout. */
  out?: string;
  /** Printed on stderr. */
  err?: string;
  exit?: number;
  /** Hang this long instead of answering. */
  sleepSeconds?: number;
}

export interface HelperCall {
  /** The helper's name: "desktop" for docker-credential-desktop. */
  name: string;
  args: string;
  /** What it read on stdin. */
  server: string;
}

export interface FakeHelpers {
  dir: string;
  /** PATH with the fake helpers first (the system PATH after, for sh's cat and sleep), and where they answer from. */
  env: NodeJS.ProcessEnv;
  install(name: string, answer: FakeAnswer): Promise<void>;
  calls(): Promise<HelperCall[]>;
  clearCalls(): Promise<void>;
  remove(): Promise<void>;
}

/** A helper's answer when it holds credentials: the JSON docker-credential-helpers print for `get`. */
export function credentialsJson(serverUrl: string, username: string, secret: string): string {
  return JSON.stringify({ ServerURL: serverUrl, Username: username, Secret: secret });
}

export async function fakeHelpers(): Promise<FakeHelpers> {
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-cred-helpers-'));
  const bin = join(dir, 'bin');
  await mkdir(bin);
  const log = join(dir, 'calls.log');
  return {
    dir,
    env: { PATH: `${bin}${delimiter}${process.env['PATH'] ?? '/usr/bin:/bin'}`, FAKE_HELPER_DIR: dir },
    async install(name, answer) {
      const program = join(bin, `docker-credential-${name}`);
      await copyFile(SCRIPT, program);
      // git may not keep the mode bit (core.fileMode=false checkouts); the copy must be executable.
      await chmod(program, 0o755);
      const spec = join(dir, name);
      for (const ext of ['out', 'err', 'exit', 'sleep']) await rm(`${spec}.${ext}`, { force: true });
      if (answer.out !== undefined) await writeFile(`${spec}.out`, answer.out);
      if (answer.err !== undefined) await writeFile(`${spec}.err`, answer.err);
      if (answer.exit !== undefined) await writeFile(`${spec}.exit`, String(answer.exit));
      if (answer.sleepSeconds !== undefined) await writeFile(`${spec}.sleep`, String(answer.sleepSeconds));
    },
    async calls() {
      const text = await readFile(log, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '' : Promise.reject(e)));
      return text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const [name = '', args = '', server = ''] = l.split('\t');
          return { name, args, server };
        });
    },
    clearCalls: () => rm(log, { force: true }),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
