import { createRequire } from 'node:module';
import type { ChildProcess, SpawnOptions } from 'node:child_process';

// What commander gets for `require('node:child_process')` (main.ts loads it so): commander requires it when it is
// loaded, for executable subcommands (`program.command('x', 'description')` runs clair-ts-x), which clair-ts does not
// define; loading node:child_process (with net, dgram and 15 more internal modules) was ~13M instructions of a warm
// scan's ~240M (callgrind). The one function commander calls loads the real module on first use.

const require = createRequire(import.meta.url);

export function spawn(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  return (require('node:child_process') as typeof import('node:child_process')).spawn(command, args, options);
}
