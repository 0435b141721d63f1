import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { spawn } from '../../src/cli/lazy-child-process.ts';

// main.ts gives commander lazy-child-process.ts for node:child_process: the CLI must not load the real module at
// start-up, and what commander would call must still start a process.

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
// Prints, at exit, the internal modules the process loaded.
const LIST_MODULES = `data:text/javascript,process.on('exit', () => process.stderr.write('\\nMODULES ' + JSON.stringify(process.moduleLoadList) + '\\n'))`;

test('the CLI runs a command without loading node:child_process', () => {
  const r = spawnSync(process.execPath, ['--import', LIST_MODULES, MAIN, 'compare-versions', '--scheme', 'dpkg', '1.0', '1.1'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '-1\n');
  const modules = JSON.parse(/^MODULES (.*)$/m.exec(r.stderr)![1]!) as string[];
  assert.ok(modules.includes('NativeModule fs'), 'the module list is read');
  assert.ok(!modules.includes('NativeModule child_process'), 'node:child_process was loaded');
});

test("the stand-in's spawn starts the process commander asks for", async () => {
  const child = spawn(process.execPath, ['-e', 'process.exit(7)'], { stdio: 'inherit' });
  const [code] = await once(child, 'exit');
  assert.equal(code, 7);
});
