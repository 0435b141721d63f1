import { emptyDistribution, type Distribution } from '../../model/distribution.ts';

// os-release(5): newline-separated KEY=VALUE, values optionally in single or double quotes with shell-style escapes.
// https://www.freedesktop.org/software/systemd/man/latest/os-release.html

export function parseOsRelease(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\([\\$"`])/g, '$1');
    }
    out.set(key, value);
  }
  return out;
}

export function distributionFromOsRelease(text: string): Distribution | undefined {
  const kv = parseOsRelease(text);
  const id = kv.get('ID');
  if (!id) return undefined;
  const version = kv.get('VERSION') ?? '';
  // Older releases (Debian 7/8, Ubuntu before 16.04's VERSION_CODENAME) name the release only inside VERSION,
  // e.g. VERSION="8 (jessie)" or "14.04.6 LTS, Trusty Tahr".
  let codename = kv.get('VERSION_CODENAME') ?? kv.get('UBUNTU_CODENAME') ?? '';
  if (!codename) {
    const m = /\(([a-z]+)\)/.exec(version);
    if (m) codename = m[1]!;
  }
  return {
    ...emptyDistribution(),
    did: id,
    name: kv.get('NAME') ?? '',
    version,
    versionId: kv.get('VERSION_ID') ?? '',
    versionCodeName: codename,
    cpe: kv.get('CPE_NAME') ?? '',
    prettyName: kv.get('PRETTY_NAME') ?? '',
  };
}
