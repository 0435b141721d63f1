import { DatabaseSync } from 'node:sqlite';
import { RECORD_COLUMNS, RECORD_JOINS, decodeVulnerability } from '../src/store/record-row.ts';
const db = new DatabaseSync('/work/fixture-warmscan/store.db');
const srcs = (await import('node:fs')).readFileSync('/work/fixture-warmscan/sources.txt', 'utf8').trim().split('\n');
const sql = `SELECT v.id, ${RECORD_COLUMNS} FROM vuln v ${RECORD_JOINS} WHERE v.package_name IN (${srcs.map(() => '?').join(',')}) AND (c.updater = ? OR substr(c.updater, 1, ?) = ?) AND (c.dist_did = ? OR c.dist_did = '') AND (c.dist_version_code_name = ? OR c.dist_version_code_name = '')
        AND EXISTS (SELECT 1 FROM uo_vuln u WHERE u.vuln_id = v.id AND u.uo_id IN (1))`;
const st = db.prepare(sql);
for (let i = 0; i < 4; i++) {
  let c0 = process.cpuUsage();
  const rows = st.all(...srcs, 'debian', 7, 'debian/', 'debian', 'bookworm');
  let c = process.cpuUsage(c0);
  console.log('sql', rows.length, ((c.user + c.system) / 1000).toFixed(1), 'cpu');
  c0 = process.cpuUsage();
  const vs = rows.map((r) => ({ ...decodeVulnerability(r as any), id: String(r.id) }));
  c = process.cpuUsage(c0);
  console.log('decode', vs.length, ((c.user + c.system) / 1000).toFixed(1), 'cpu');
}
