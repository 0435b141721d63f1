import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { allMatchers } from '../src/ecosystems/registry.ts';
import { indexedPackages } from '../src/matcher/match.ts';
const store = SqliteStore.open('/work/fixture-warmscan/store.db');
const { report } = (await store.getIndexReport('sha256:47071868386838d3b0277a005c04d4d94938bbf10a486b5218b2edbfae302c9d'))!;
const ms = allMatchers();
const qs = [];
for (const p of indexedPackages(report)) for (const m of ms) if (m.filter(p)) qs.push(m.query(p));
const uniq = [...new Map(qs.map((q) => [JSON.stringify(q), q])).values()];
for (const [name, list] of [['all', qs], ['uniq', uniq], ['all again', qs]] as const) {
  const c0 = process.cpuUsage(); const t0 = performance.now();
  const r = await store.queryVulnerabilities(list as any);
  const c = process.cpuUsage(c0);
  console.log(name, list.length, r.flat().length, (performance.now() - t0).toFixed(1), 'ms', ((c.user + c.system) / 1000).toFixed(1), 'cpu');
}
