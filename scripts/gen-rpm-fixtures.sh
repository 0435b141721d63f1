#!/usr/bin/env bash
# Regenerates src/ecosystems/rpm/testdata/{sqlite,sqlite-wal,bdb-le,bdb-be}/, want.tsv and gamma.files with real tools:
#   rpmbuild + rpm (Debian package `rpm`, 4.18, sqlite backend) build three tiny packages and install them with
#   --justdb into an sqlite rpmdb; db5.3_load (Debian package `db5.3-util`, Berkeley DB 5.3 as in RHEL 8) writes the
#   same header blobs into a hash "Packages" file in both byte orders, as rpm's bdb backend stores them (key = header
#   number in the host's byte order, record 0 = next header number). want.tsv is what the real `rpm -qa` prints for
#   the sqlite db. sqlite-wal/rpmdb.sqlite-wal belongs to
#   sqlite/rpmdb.sqlite: it removes libbeta, written by SQLite (node:sqlite) in WAL mode and copied before any checkpoint. The BDB files are checked by reading them back with rpm's bdb_ro backend.
# Needs: rpm, rpmbuild, db5.3-util (apt-get install rpm db5.3-util), and this repo's node.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
node="$repo/node_modules/.bin/node"
out="$repo/src/ecosystems/rpm/testdata"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000

mkdir -p "$work/SPECS"
cat >"$work/SPECS/alpha.spec" <<'EOF'
Name: alpha
Epoch: 1
Version: 1.0
Release: 1.fx
Summary: Fixture package with an epoch
License: MIT
Vendor: clair-ts fixtures
BuildArch: noarch
%description
A tiny fixture.
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/usr/share/doc/alpha
printf '#!/bin/sh\necho alpha\n' > %{buildroot}/usr/bin/alpha
echo readme > %{buildroot}/usr/share/doc/alpha/README
%files
/usr/bin/alpha
/usr/share/doc/alpha
EOF
# beta: a module package with a subpackage whose name differs from its source rpm
cat >"$work/SPECS/beta.spec" <<'EOF'
Name: beta
Version: 2.3.4
Release: 5.el9
Summary: Fixture modular package
License: GPL-2.0-or-later
Vendor: clair-ts fixtures
BuildArch: noarch
%description
A tiny fixture.
%package -n libbeta
Summary: Fixture subpackage
%description -n libbeta
Subpackage.
%install
mkdir -p %{buildroot}/usr/lib/beta %{buildroot}/usr/bin
echo lib > %{buildroot}/usr/lib/beta/libbeta.txt
printf '#!/bin/sh\necho beta\n' > %{buildroot}/usr/bin/beta
%files
/usr/bin/beta
%files -n libbeta
/usr/lib/beta
EOF
# gamma: many files, so its header needs several overflow pages in the Berkeley DB
cat >"$work/SPECS/gamma.spec" <<'EOF'
Name: gamma
Version: 0.9~rc1
Release: 0
Summary: Fixture package with many files
License: Apache-2.0
Vendor: clair-ts fixtures
BuildArch: noarch
%description
A tiny fixture with a long file list.
%install
mkdir -p %{buildroot}/usr/share/gamma/data-directory-with-a-long-name
for i in $(seq 1 100); do echo $i > %{buildroot}/usr/share/gamma/data-directory-with-a-long-name/file-$i.txt; done
%files
/usr/share/gamma
EOF

rb() { rpmbuild --define "_topdir $work" --define '_buildhost fixtures.invalid' --define 'use_source_date_epoch_as_buildtime 1' \
  --define 'clamp_mtime_to_source_date_epoch 1' --define '_binary_payload w9.gzdio' "$@" >/dev/null; }
rb -bb "$work/SPECS/alpha.spec" 2>/dev/null
rb -bb --define 'modularitylabel beta:2.3:9040020240101:abcdef12' "$work/SPECS/beta.spec" 2>/dev/null
rb -bb "$work/SPECS/gamma.spec" 2>/dev/null

db="$work/sqlite"
mkdir -p "$db"
rpm --dbpath "$db" --define '_db_backend sqlite' --initdb
rpm --dbpath "$db" --define '_db_backend sqlite' -i --justdb --nodeps --noscripts --notriggers --nosignature \
  "$work"/RPMS/noarch/*.rpm 2>/dev/null # Debian's rpm warns "use Alien instead" on stderr
# Keep the fixture small: fold the WAL into the main file, rewrite it with 1 KiB pages (rpm's are 4 KiB, and most of
# its ~50 index tables hold one page), then put it back in WAL mode as rpm leaves it. Rows are unchanged.
"$node" -e '
const { DatabaseSync } = require("node:sqlite");
const db = new DatabaseSync(process.argv[1]);
db.exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE; PRAGMA page_size = 1024; VACUUM; PRAGMA journal_mode = WAL;");
db.close();' "$db/rpmdb.sqlite"

rm -rf "$out/sqlite" "$out/sqlite-wal" "$out/bdb-le" "$out/bdb-be"
mkdir -p "$out/sqlite" "$out/sqlite-wal" "$out/bdb-le" "$out/bdb-be"
cp "$db/rpmdb.sqlite" "$out/sqlite/rpmdb.sqlite"
rpm --dbpath "$db" -qa --qf '%|EPOCH?{%{EPOCH}}:{}|\t%{NAME}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\t%{SIZE}\t%{LICENSE}\t%{VENDOR}\t%|MODULARITYLABEL?{%{MODULARITYLABEL}}:{}|\n' \
  >"$out/want.tsv"
rpm --dbpath "$db" -ql gamma >"$out/gamma.files"

# Berkeley DB: a dump in db_load's bytevalue format (each item a line of hex after one space).
"$node" -e '
const { DatabaseSync } = require("node:sqlite");
const db = new DatabaseSync(process.argv[1], { readOnly: true });
const rows = db.prepare("SELECT hnum, blob FROM Packages ORDER BY hnum").all();
for (const order of ["le", "be"]) {
  const u32 = (n) => { const b = Buffer.alloc(4); order === "le" ? b.writeUInt32LE(n) : b.writeUInt32BE(n); return b; };
  // Big-endian with 8 KiB pages: BDB keeps values up to a quarter page on the hash page itself (H_KEYDATA), so the
  // two smallest headers are stored inline there and the others in overflow pages (H_OFFPAGE).
  const pageSize = order === "le" ? 4096 : 8192;
  const lines = ["VERSION=3", "format=bytevalue", "type=hash", `db_pagesize=${pageSize}`, `db_lorder=${order === "le" ? 1234 : 4321}`, "HEADER=END"];
  const max = Math.max(...rows.map((r) => r.hnum));
  lines.push(" " + u32(0).toString("hex"), " " + u32(max + 1).toString("hex"));
  for (const r of rows) lines.push(" " + u32(r.hnum).toString("hex"), " " + Buffer.from(r.blob).toString("hex"));
  lines.push("DATA=END");
  require("node:fs").writeFileSync(process.argv[2] + "/" + order + ".dump", lines.join("\n") + "\n");
}' "$db/rpmdb.sqlite" "$work"
db5.3_load -f "$work/le.dump" "$out/bdb-le/Packages"
db5.3_load -f "$work/be.dump" "$out/bdb-be/Packages"
# The real rpm must read both back identically (its read-only bdb backend); otherwise the fixture is wrong.
for o in le be; do
  rpm --dbpath "$out/bdb-$o" --define '_db_backend bdb_ro' -qa --qf '%{NAME}\n' 2>/dev/null | sort >"$work/bdb-$o.names"
  cut -f2 "$out/want.tsv" | sort | cmp - "$work/bdb-$o.names"
done
rm -f "$out"/bdb-*/.rpm.lock

# WAL pair: remove libbeta inside a WAL transaction and keep the -wal file un-checkpointed.
cp "$out/sqlite/rpmdb.sqlite" "$work/wal.sqlite"
"$node" -e '
const { DatabaseSync } = require("node:sqlite");
const fs = require("node:fs");
const [file, dest] = process.argv.slice(1);
const db = new DatabaseSync(file);
db.exec("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; PRAGMA foreign_keys = OFF;");
db.prepare("DELETE FROM Packages WHERE hnum = (SELECT hnum FROM Name WHERE key = ?)").run("libbeta");
fs.copyFileSync(file + "-wal", dest + "/rpmdb.sqlite-wal");
// Nothing was checkpointed yet: the main file is still sqlite/rpmdb.sqlite, which the WAL applies to.
if (!fs.readFileSync(file).equals(fs.readFileSync(dest + "/../sqlite/rpmdb.sqlite"))) throw new Error("main file changed");
' "$work/wal.sqlite" "$out/sqlite-wal"
ls -l "$out"/*/
