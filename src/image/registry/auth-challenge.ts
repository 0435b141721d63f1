// WWW-Authenticate as registries send it (RFC 9110 §11.6.1, distribution's token spec):
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/debian:pull"
//   Basic realm="Registry Realm"
// A header may hold several challenges, and quoted values may contain commas (scope="…:pull,push"),
// so this is a small scanner rather than a split on ','.

export interface Challenge {
  /** Lower-cased: "bearer", "basic". */
  scheme: string;
  /** Parameter names lower-cased, values unquoted. */
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;

export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const skip = (): void => {
    while (i < header.length && /[\s,]/.test(header[i]!)) i++;
  };
  const token = (): string | undefined => {
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(header);
    if (!m) return undefined;
    i = TOKEN.lastIndex;
    return m[0];
  };
  let current: Challenge | undefined;
  while (true) {
    skip();
    if (i >= header.length) break;
    const start = i;
    const word = token();
    if (word === undefined) break; // unreadable rest: keep what was understood
    let j = i;
    while (j < header.length && header[j] === ' ') j++;
    if (header[j] === '=' && current !== undefined) {
      i = j + 1;
      while (i < header.length && header[i] === ' ') i++;
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < header.length && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < header.length) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        // Unquoted values should be tokens, but realms are sent bare ("realm=https://…") by some servers.
        const start = i;
        while (i < header.length && header[i] !== ',' && !/\s/.test(header[i]!)) i++;
        value = header.slice(start, i);
      }
      current.params[word.toLowerCase()] = value;
    } else if (header[j] === '=' && current === undefined) {
      i = start + word.length + 1; // a parameter before any scheme: ignore it
      token();
    } else {
      current = { scheme: word.toLowerCase(), params: {} };
      out.push(current);
      // token68 form ("Negotiate abc==") is not used by registries; its text is skipped as a stray token.
    }
  }
  return out;
}
