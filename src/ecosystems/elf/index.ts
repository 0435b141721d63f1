import type { Ecosystem } from '../ecosystem.ts';

// ELF, the executable format that Go build info and cargo-auditable data live in: a shared format with no scanner of
// its own; the go and rust ecosystems import its reader (elf-file.ts) and its streaming sink (elf-sink.ts).
export const elf: Ecosystem = { name: 'elf', scanners: [], updaters: [], matchers: [] };
