// Text that came from an image, a feed or a remote server can hold terminal escape sequences (ESC [ … m, OSC 52
// clipboard writes, cursor moves) and bidirectional overrides. Everything such text passes through on its way to a
// terminal or a log line goes through printable(): control characters become visible escapes, so a package name can
// neither recolour the table nor rewrite the lines above it.

// C0 controls (tab and newline included: a table cell or a one-line error has no use for them), DEL, C1 controls,
// and the Unicode bidi embedding/override/isolate characters that reorder what a reader sees.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** The text with every control and bidi character replaced by a visible escape (`\x1b`, `\n`, `\u202e`). */
export function printable(s: string): string {
  return s.replace(UNPRINTABLE, escapeChar);
}

/** printable() that keeps line breaks: for multi-line messages written to a terminal. */
export function printableLines(s: string): string {
  return s.split('\n').map(printable).join('\n');
}
