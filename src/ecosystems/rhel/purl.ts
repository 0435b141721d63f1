// Package URLs (https://github.com/package-url/purl-spec), as VEX product_identification_helper carries them:
// "pkg:rpm/redhat/perl-FCGI@0.78-11.module%2Bel8.6.0?arch=src&epoch=1&rpmmod=perl-FCGI:0.78:8060020250604201935:513b2a65".

export interface Purl {
  type: string;
  namespace: string;
  name: string;
  /** "" when the purl has none (a component without a version: known_affected products). */
  version: string;
  qualifiers: Map<string, string>;
}

/** undefined when `s` is not a package URL. */
export function parsePurl(s: string): Purl | undefined {
  if (!s.startsWith('pkg:')) return undefined;
  let rest = s.slice(4);
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const qualifiers = new Map<string, string>();
  const q = rest.indexOf('?');
  if (q >= 0) {
    for (const pair of rest.slice(q + 1).split('&')) {
      const eq = pair.indexOf('=');
      if (eq > 0) qualifiers.set(pair.slice(0, eq).toLowerCase(), decode(pair.slice(eq + 1)));
    }
    rest = rest.slice(0, q);
  }
  let version = '';
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    version = decode(rest.slice(at + 1));
    rest = rest.slice(0, at);
  }
  const parts = rest.replace(/^\/+/, '').split('/').filter((p) => p !== '');
  if (parts.length < 2) return undefined;
  const type = parts[0]!.toLowerCase();
  const name = decode(parts[parts.length - 1]!);
  const namespace = parts.slice(1, -1).map(decode).join('/');
  return { type, namespace, name, version, qualifiers };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
