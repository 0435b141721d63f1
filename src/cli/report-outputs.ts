import { writeFile } from 'node:fs/promises';
import { ClairError, errorMessage } from '../model/errors.ts';

// Where each report format goes. `--format` is repeatable; `--output` names files:
//   --format sarif --output out.sarif                  one format, into a file
//   --format table --format sarif --output sarif=out.sarif
//                                                       table on stdout, SARIF into out.sarif
//   --format cyclonedx --format spdx-json --output cyclonedx=bom.cdx.json --output spdx-json=bom.spdx.json
// At most one format goes to stdout; each file is written whole (a temporary file renamed into place is not
// needed: the file is written once, after the scan, and a failed write is an error).

export interface OutputPlan {
  format: string;
  /** undefined: stdout. */
  file?: string;
}

export function planOutputs(formats: string[] | string | undefined, outputs: string[] | undefined, allowed: readonly string[], fallback: string): OutputPlan[] {
  const fs = (formats === undefined ? [] : Array.isArray(formats) ? formats : [formats]).flatMap((f) => f.split(',')).map((f) => f.trim()).filter(Boolean);
  const list = fs.length > 0 ? [...new Set(fs)] : [fallback];
  for (const f of list) if (!allowed.includes(f)) throw new ClairError('bad-input', `--format must be one of ${allowed.join(', ')}, not "${f}"`);
  const files = new Map<string, string>();
  for (const o of outputs ?? []) {
    const eq = o.indexOf('=');
    const named = eq > 0 ? o.slice(0, eq) : undefined;
    if (named !== undefined && allowed.includes(named)) {
      if (!list.includes(named)) throw new ClairError('bad-input', `--output ${o}: format ${named} was not asked for with --format`);
      if (o.length === eq + 1) throw new ClairError('bad-input', `--output ${o}: no file name`);
      files.set(named, o.slice(eq + 1));
    } else {
      if (list.length !== 1) throw new ClairError('bad-input', `--output ${o}: with several formats, name the format: --output FORMAT=FILE`);
      files.set(list[0]!, o);
    }
  }
  const plans = list.map((format) => ({ format, ...(files.has(format) ? { file: files.get(format)! } : {}) }));
  const toStdout = plans.filter((p) => p.file === undefined);
  if (toStdout.length > 1) {
    throw new ClairError('bad-input', `${toStdout.map((p) => p.format).join(' and ')} would both go to stdout: send all but one to files with --output FORMAT=FILE`);
  }
  return plans;
}

export async function writeOutputs(plans: OutputPlan[], render: (format: string) => string | Uint8Array | Promise<string | Uint8Array>, stdout: (s: string | Uint8Array) => void): Promise<void> {
  for (const p of plans) {
    const text = await render(p.format);
    if (p.file === undefined) stdout(text);
    else {
      try {
        await writeFile(p.file, text);
      } catch (e) {
        throw new ClairError('bad-input', `--output ${p.file}: ${errorMessage(e)}`);
      }
    }
  }
}
