// node:crypto costs a fresh process about 24M instructions (~8 ms) to load: all of its ciphers, key types and
// WebCrypto come with it. Modules that hash or draw ids only when they write or scan take it on first use, so a
// warm scan answered from a stored result (src/cli/stored-scan.ts) does not load it for them.

/** node:crypto, loaded on the first call. */
export function nodeCrypto(): typeof import('node:crypto') {
  return process.getBuiltinModule('node:crypto');
}
