import { benchBases, benchImage } from './notifier-images.ts';
import { indexedPackageRows, canonicalJson } from '../src/store/indexed-package-rows.ts';
import { indexedPackages } from '../src/matcher/matcher.ts';
import { packageLookupNames } from '../src/matcher/vulnerability-query.ts';
import { createHash } from 'node:crypto';
import type { IndexReport } from '../src/model/index-report.ts';
import { readFileSync } from 'node:fs';
const debian = JSON.parse(readFileSync('/tmp/debian-report.json', 'utf8')) as IndexReport;
const bases = benchBases(debian);
const imgs = Array.from({ length: 400 }, (_, i) => benchImage(bases, i));
const time = (what: string, fn: () => void) => { const t = performance.now(); fn(); console.log(what, (performance.now() - t).toFixed(0), 'ms'); };
for (let round = 0; round < 2; round++) {
time('stringify', () => { for (const r of imgs) JSON.stringify(r); });
time('indexedPackages', () => { for (const r of imgs) indexedPackages(r); });
time('names', () => { for (const r of imgs) for (const p of Object.values(r.packages)) packageLookupNames(p); });
time('hash', () => { for (const r of imgs) for (const p of Object.values(r.packages)) createHash('sha256').update(p.name + p.version + 'x'.repeat(300)).digest('hex'); });
time('canon', () => { for (const r of imgs) for (const p of Object.values(r.packages)) canonicalJson(p); });
time('rows', () => { for (const r of imgs) indexedPackageRows(r); });
}
