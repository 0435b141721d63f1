const { openStore } = await import('../src/store/open-store.ts');
const { allMatchers } = await import('../src/ecosystems/registry.ts');
const { match } = await import('../src/matcher/match.ts');
const { mergeAliases } = await import('../src/matcher/merge-aliases.ts');
const { cveIds } = await import('../src/matcher/enrich.ts');
const store = await openStore('/work/fixture-warmscan/store.db');
const { report } = (await store.getIndexReport('sha256:47071868386838d3b0277a005c04d4d94938bbf10a486b5218b2edbfae302c9d'))!;
const matched = await match(store, allMatchers(), report);
const v0 = [...matched.vulnerabilities.values()][0]!;
console.log(new Function("v", "return %HasFastProperties(v)")(v0), Object.keys(v0).length);
for (let i = 0; i < +(process.env.N ?? 4); i++) {
  let c0 = process.cpuUsage();
  mergeAliases(matched);
  let c = process.cpuUsage(c0);
  console.log('merge', ((c.user + c.system) / 1000).toFixed(1));
  c0 = process.cpuUsage();
  for (const v of matched.vulnerabilities.values()) cveIds(v);
  c = process.cpuUsage(c0);
  console.log('cveIds', ((c.user + c.system) / 1000).toFixed(1));
}
