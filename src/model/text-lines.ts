// The lines of a text, one at a time: what `text.split('\n')` gives, without the array. A file an image chooses to
// fill with 130 MiB of newlines made split() build an array past V8's limit, a fatal error no try/catch sees (one
// POST killed the server); iterating costs one string per line, each dropped as soon as it is read.

/**
 * The lines of `text`; a run of empty lines comes as one empty line (the readers using this treat blank lines as
 * separators, where one is as good as many), so a file of newlines costs a character compare per byte.
 */
export function* textLines(text: string): Generator<string> {
  let start = 0;
  for (;;) {
    if (text.charCodeAt(start) === 10) {
      let i = start + 1;
      while (text.charCodeAt(i) === 10) i++;
      yield '';
      start = i;
      continue;
    }
    const nl = text.indexOf('\n', start);
    if (nl < 0) {
      yield text.slice(start);
      return;
    }
    yield text.slice(start, nl);
    start = nl + 1;
  }
}
