import { ClairError } from '../../model/errors.ts';

// go.mod as golang.org/x/mod/modfile reads it (https://go.dev/ref/mod#go-mod-file): line comments `//`, directives
// one per line or in parenthesised blocks, tokens that may be "quoted". Only what inventories need is kept:
// the module path, require (with `// indirect`) and replace; exclude, retract, go, toolchain, godebug are skipped.

export interface GoModRequire {
  path: string;
  version: string;
  indirect: boolean;
}

export interface GoModReplace {
  oldPath: string;
  /** Empty: every version of oldPath is replaced. */
  oldVersion: string;
  newPath: string;
  /** Empty for a directory replacement. */
  newVersion: string;
}

export interface GoMod {
  module: string;
  go: string;
  require: GoModRequire[];
  replace: GoModReplace[];
}

/** Splits a line into tokens: bare words and "quoted" strings (Go escapes, read as JSON's); `//` ends it. */
function tokenize(line: string, file: string, lineNo: number): { tokens: string[]; comment: string } {
  const tokens: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (line.startsWith('//', i)) {
      return { tokens, comment: line.slice(i + 2).trim() };
    } else if (c === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (j >= line.length) throw new ClairError('bad-input', `${file}:${lineNo}: unterminated quoted string`);
      try {
        tokens.push(JSON.parse(line.slice(i, j + 1)) as string);
      } catch {
        throw new ClairError('bad-input', `${file}:${lineNo}: invalid quoted string`);
      }
      i = j + 1;
    } else if (c === '(' || c === ')') {
      tokens.push(c);
      i++;
    } else {
      let j = i;
      while (j < line.length && !' \t\r()"'.includes(line[j]!) && !line.startsWith('//', j)) j++;
      tokens.push(line.slice(i, j));
      i = j;
    }
  }
  return { tokens, comment: '' };
}

/** Parses go.mod text; throws ClairError('bad-input') naming the file and line for malformed directives. */
export function parseGoMod(text: string, file: string): GoMod {
  const mod: GoMod = { module: '', go: '', require: [], replace: [] };
  let block: string | undefined;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const { tokens, comment } = tokenize(lines[n]!, file, n + 1);
    if (tokens.length === 0) continue;
    let verb: string;
    let args: string[];
    const arg = (i: number): string => args[i] ?? '';
    if (block !== undefined) {
      if (tokens[0] === ')') {
        block = undefined;
        continue;
      }
      verb = block;
      args = tokens;
    } else if (tokens[1] === '(' && tokens.length === 2) {
      block = tokens[0];
      continue;
    } else {
      verb = tokens[0]!;
      args = tokens.slice(1);
    }
    const bad = (why: string): ClairError => new ClairError('bad-input', `${file}:${n + 1}: ${why}`);
    switch (verb) {
      case 'module':
        if (args.length !== 1) throw bad('usage: module module/path');
        mod.module = arg(0);
        break;
      case 'go':
        if (args.length !== 1) throw bad('usage: go 1.23');
        mod.go = arg(0);
        break;
      case 'require':
        if (args.length !== 2) throw bad('usage: require module/path v1.2.3');
        mod.require.push({ path: arg(0), version: arg(1), indirect: /^indirect(;|$)/.test(comment) });
        break;
      case 'replace': {
        const arrow = args.indexOf('=>');
        if (arrow < 1 || arrow > 2 || args.length - arrow - 1 < 1 || args.length - arrow - 1 > 2) {
          throw bad('usage: replace module/path [v1.2.3] => other/module v1.4.5 | ../local/directory');
        }
        mod.replace.push({
          oldPath: arg(0),
          oldVersion: arrow === 2 ? arg(1) : '',
          newPath: arg(arrow + 1),
          newVersion: args[arrow + 2] ?? '',
        });
        break;
      }
      default:
        // exclude, retract, toolchain, godebug, tool, ignore and future directives: not part of the inventory.
        break;
    }
  }
  if (block !== undefined) throw new ClairError('bad-input', `${file}: unterminated ${block} ( block`);
  return mod;
}

/** A requirement after go.mod's replace directives: a version-specific replacement wins over a path-wide one. */
export function resolveRequire(mod: GoMod, r: GoModRequire): { path: string; version: string } {
  const rep =
    mod.replace.find((x) => x.oldPath === r.path && x.oldVersion === r.version) ??
    mod.replace.find((x) => x.oldPath === r.path && x.oldVersion === '');
  if (!rep) return { path: r.path, version: r.version };
  // Directory replacement: the module keeps its path, loses its published version (as for binaries).
  if (rep.newVersion === '') return { path: r.path, version: '' };
  return { path: rep.newPath, version: rep.newVersion };
}
