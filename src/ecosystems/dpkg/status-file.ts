import type { Package } from '../../model/package.ts';

// dpkg's status database (var/lib/dpkg/status, and distroless images' var/lib/dpkg/status.d/NAME): RFC 822-style
// stanzas separated by blank lines; a line starting with a space or tab continues the previous field.
// Format: https://manpages.debian.org/bookworm/dpkg-dev/deb-control.5.en.html

export function parseStanzas(text: string): Map<string, string>[] {
  const stanzas: Map<string, string>[] = [];
  let cur = new Map<string, string>();
  let lastKey = '';
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') {
      if (cur.size > 0) stanzas.push(cur);
      cur = new Map();
      lastKey = '';
      continue;
    }
    if (line[0] === ' ' || line[0] === '\t') {
      if (lastKey) cur.set(lastKey, cur.get(lastKey) + '\n' + line.slice(1));
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue; // not a field: dpkg itself would refuse the file; we keep what is readable
    lastKey = line.slice(0, colon).trim();
    cur.set(lastKey, line.slice(colon + 1).trim());
  }
  if (cur.size > 0) stanzas.push(cur);
  return stanzas;
}

/** `Source: name` or `Source: name (version)`; the source version defaults to the binary's version. */
export function parseSourceField(field: string | undefined, name: string, version: string): { name: string; version: string } {
  if (!field) return { name, version };
  const m = /^(\S+)(?:\s+\((\S+)\))?\s*$/.exec(field);
  if (!m) return { name, version };
  return { name: m[1]!, version: m[2] ?? version };
}

/**
 * Packages that dpkg considers installed. Status is "want flag status"; config-files, half-installed and
 * not-installed packages have no (or not all) files on disk and are left out, as `dpkg-query -W` on an installed
 * root lists them but `dpkg -l` marks them otherwise — we follow dpkg's own notion: status "installed".
 * Distroless status.d files have no Status field: each stanza there is an installed package.
 */
export function installedPackages(text: string, packageDb: string, requireStatus: boolean): Package[] {
  const out: Package[] = [];
  for (const st of parseStanzas(text)) {
    const name = st.get('Package');
    const version = st.get('Version');
    if (!name || !version) continue;
    const status = st.get('Status');
    if (status !== undefined || requireStatus) {
      const words = (status ?? '').split(/\s+/);
      if (words[2] !== 'installed') continue;
    }
    const source = parseSourceField(st.get('Source'), name, version);
    out.push({
      name, version, kind: 'binary', source, arch: st.get('Architecture') ?? '', module: '', cpe: '', packageDb, repositoryHint: '',
    });
  }
  return out;
}
