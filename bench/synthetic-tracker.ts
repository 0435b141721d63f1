import { openSync, writeSync, closeSync } from 'node:fs';

// A tracker-shaped feed of the real file's order of magnitude, written by a fixed-seed generator: the image's own
// source packages (so matching does real work) plus filler packages. Each CVE has entries for several releases.
// `fillers`: how many filler packages (3000 unless given; the real tracker names about 5000 source packages).

export function syntheticTracker(path: string, imageSources: string[], cves: number, fillers = 3000): { bytes: number } {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const releases = ['bullseye', 'bookworm', 'trixie', 'sid'];
  const urgencies = ['low', 'medium', 'high', 'unimportant', 'not yet assigned'];
  const packages = [...imageSources, ...Array.from({ length: fillers }, (_, i) => `filler-package-${i}`)];
  const fd = openSync(path, 'w');
  let bytes = 0;
  const write = (s: string) => (bytes += writeSync(fd, s));
  write('{');
  let n = 0;
  packages.forEach((pkg, pi) => {
    const per = Math.max(1, Math.round((cves / packages.length) * (0.5 + rnd())));
    const entries: string[] = [];
    for (let c = 0; c < per; c++) {
      n++;
      const rel: Record<string, unknown> = {};
      for (const r of releases) {
        const x = rnd();
        rel[r] = x < 0.6
          ? { status: 'resolved', repositories: { [r]: '1.0-1' }, fixed_version: `${1 + Math.floor(rnd() * 5)}.${Math.floor(rnd() * 20)}-${1 + Math.floor(rnd() * 3)}`, urgency: urgencies[Math.floor(rnd() * urgencies.length)] }
          : x < 0.8
            ? { status: 'open', repositories: { [r]: '1.0-1' }, urgency: urgencies[Math.floor(rnd() * urgencies.length)] }
            : { status: 'undetermined', repositories: { [r]: '1.0-1' }, urgency: 'not yet assigned' };
      }
      entries.push(`${JSON.stringify(`CVE-2099-${String(n).padStart(6, '0')}`)}:${JSON.stringify({ description: `Synthetic vulnerability ${n} in ${pkg}, described at the length a real one has `.repeat(2), scope: 'remote', releases: rel })}`);
    }
    write(`${pi === 0 ? '' : ','}${JSON.stringify(pkg)}:{${entries.join(',')}}`);
  });
  write('}');
  closeSync(fd);
  return { bytes };
}
