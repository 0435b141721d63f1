import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

// Tests that need a system tool (go, cargo, jar) skip with a clear message without it; under CI they fail instead,
// since .ci/run installs every tool the tests use.

export function hasTool(cmd: string, args: string[] = ['--version']): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.error === undefined;
}

/** True when the tool is there; otherwise skips the test (or throws under CI, where it must be installed). */
export function requireTool(t: TestContext, cmd: string, debianPackage: string, args: string[] = ['--version']): boolean {
  if (hasTool(cmd, args)) return true;
  if (process.env.CI) throw new Error(`${cmd} is missing but CI is set (.ci/run installs ${debianPackage})`);
  t.skip(`${cmd} not installed (apt-get install ${debianPackage})`);
  return false;
}

/** Runs a command, returns stdout; throws with its stderr when it fails. */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}
