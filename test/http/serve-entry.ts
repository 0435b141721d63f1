// `clair-ts serve` for the process test until src/cli/main.ts registers the subcommand: the same command body,
// the same process I/O. Not part of the product.
import { serveCommand } from '../../src/cli/serve-command.ts';
import { processIo } from '../../src/cli/io.ts';
import { errorMessage } from '../../src/model/errors.ts';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const o: { config?: string; mode?: string; db?: string } = {};
for (const k of ['config', 'mode', 'db'] as const) {
  const v = opt(`--${k}`);
  if (v !== undefined) o[k] = v;
}
serveCommand(o, processIo()).then(
  (code) => (process.exitCode = code),
  (e) => {
    process.stderr.write(`clair-ts: ${errorMessage(e)}\n`);
    process.exitCode = 2;
  },
);
