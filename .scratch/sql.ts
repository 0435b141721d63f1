import { DatabaseSync } from 'node:sqlite';
import { readFileSync } from 'node:fs';
const db = new DatabaseSync('/work/fixture-warmscan/store.db', { readOnly: true });
const srcs = readFileSync('/work/fixture-warmscan/sources.txt', 'utf8').trim().split('\n');
const sql = `SELECT v.id, v.name, v.package_name, v.data, c.data AS context, t.data AS text FROM vuln v JOIN vuln_context c ON c.id = v.context_id LEFT JOIN vuln_text t ON t.id = v.text_id WHERE v.package_name IN (?) AND (c.updater = ? OR substr(c.updater,1,?) = ?) AND (c.dist_did=? OR c.dist_did='') AND (c.dist_version_code_name=? OR c.dist_version_code_name='') AND EXISTS (SELECT 1 FROM uo_vuln u WHERE u.vuln_id = v.id AND u.uo_id IN (1)) ORDER BY v.id`;
const st = db.prepare(sql);
for (let rep = 0; rep < 3; rep++) {
  let t = performance.now(); let n = 0;
  for (const s of srcs) n += st.all(s, 'debian', 7, 'debian/', 'debian', 'bookworm').length;
  console.log('all() objects', n, (performance.now() - t).toFixed(1));
  t = performance.now(); n = 0;
  st.setReturnArrays?.(true);
  for (const s of srcs) n += st.all(s, 'debian', 7, 'debian/', 'debian', 'bookworm').length;
  console.log('all() arrays', n, (performance.now() - t).toFixed(1));
  st.setReturnArrays?.(false);
  const st2 = db.prepare(sql.replace('v.id, v.name, v.package_name, v.data, c.data AS context, t.data AS text', 'v.id'));
  t = performance.now(); n = 0;
  for (const s of srcs) n += st2.all(s, 'debian', 7, 'debian/', 'debian', 'bookworm').length;
  console.log('ids only', n, (performance.now() - t).toFixed(1));
}
