import { DatabaseSync } from 'node:sqlite';
import { RECORD_COLUMNS, RECORD_JOINS } from '../src/store/record-row.ts';
const db = new DatabaseSync('/work/fixture-warmscan/store.db');
const srcs = (await import('node:fs')).readFileSync('/work/fixture-warmscan/sources.txt', 'utf8').trim().split('\n');
const sql = `SELECT v.id, ${RECORD_COLUMNS} FROM vuln v ${RECORD_JOINS} WHERE v.package_name IN (?) AND (c.updater = ? OR substr(c.updater, 1, ?) = ?) AND (c.dist_did = ? OR c.dist_did = '') AND (c.dist_version_code_name = ? OR c.dist_version_code_name = '')
        AND EXISTS (SELECT 1 FROM uo_vuln u WHERE u.vuln_id = v.id AND u.uo_id IN (1)) ORDER BY v.id`;
console.log(sql);
console.log(db.prepare('EXPLAIN QUERY PLAN ' + sql).all('glibc', 'debian', 7, 'debian/', 'debian', 'bookworm'));
const st = db.prepare(sql);
for (let i = 0; i < 3; i++) {
  const c0 = process.cpuUsage(); let n = 0;
  for (const s of srcs) n += st.all(s, 'debian', 7, 'debian/', 'debian', 'bookworm').length;
  const c = process.cpuUsage(c0);
  console.log(n, ((c.user + c.system) / 1000).toFixed(1), 'cpu');
}
