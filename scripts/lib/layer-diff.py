#!/usr/bin/env python3
"""Write the diff between two root file systems as an image layer tar.

usage: layer-diff.py [--lower LOWER_ROOT] UPPER_ROOT OUT.tar

The tar holds what a container runtime needs to turn LOWER into UPPER, in the
format of `docker save` / OCI layers:
  * every path that is new in UPPER, or whose type, mode, owner, size, mtime,
    symlink target or content differs from LOWER (directories included when
    they are new or their metadata changed);
  * a whiteout `<dir>/.wh.<name>` for each path of LOWER missing from UPPER;
    a removed directory gets one whiteout, its children none.
Without --lower the whole of UPPER is written (the base layer).

Paths are relative ("etc/os-release"), owners numeric, entries sorted, mtimes
kept (whole seconds). The contents of proc/, sys/, dev/ and tmp/ are left out
(the directories themselves are kept), as are device nodes and sockets, which
a layer cannot carry usefully. Extended attributes are not copied.
Counts go to stderr.
"""

import argparse
import os
import stat
import sys
import tarfile

# Directories whose contents belong to the running system, not the image.
EXCLUDED_CONTENTS = ("proc", "sys", "dev", "tmp")
WHITEOUT_PREFIX = ".wh."
CHUNK = 1 << 20


def scan(root):
    """Map each relative path under root to its lstat result."""
    entries = {}

    def walk(abs_dir, rel_dir):
        with os.scandir(abs_dir) as it:
            for de in it:
                rel = de.name if rel_dir == "" else rel_dir + "/" + de.name
                st = os.lstat(de.path)
                entries[rel] = st
                if stat.S_ISDIR(st.st_mode) and rel not in EXCLUDED_CONTENTS:
                    walk(de.path, rel)

    walk(root, "")
    return entries


def same_content(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            ca = fa.read(CHUNK)
            cb = fb.read(CHUNK)
            if ca != cb:
                return False
            if not ca:
                return True


def changed(rel, lo, up, lower_root, upper_root):
    if stat.S_IFMT(lo.st_mode) != stat.S_IFMT(up.st_mode):
        return True
    if (lo.st_mode, lo.st_uid, lo.st_gid, lo.st_mtime_ns) != (up.st_mode, up.st_uid, up.st_gid, up.st_mtime_ns):
        return True
    if stat.S_ISDIR(up.st_mode):
        return False  # a directory's own metadata is all it carries
    if lo.st_size != up.st_size:
        return True
    if stat.S_ISLNK(up.st_mode):
        return os.readlink(os.path.join(lower_root, rel)) != os.readlink(os.path.join(upper_root, rel))
    if stat.S_ISREG(up.st_mode):
        # Same size and mtime usually means same bytes (docker stops there); dpkg sets mtimes from
        # the package, so two builds of one file can share both: compare the bytes to be sure.
        return not same_content(os.path.join(lower_root, rel), os.path.join(upper_root, rel))
    return False


def storable(st):
    m = st.st_mode
    return stat.S_ISREG(m) or stat.S_ISDIR(m) or stat.S_ISLNK(m) or stat.S_ISFIFO(m)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lower", help="root the layer applies on top of (omit for a base layer)")
    ap.add_argument("upper")
    ap.add_argument("out")
    args = ap.parse_args()

    upper = scan(args.upper)
    lower = scan(args.lower) if args.lower else {}

    added, modified, skipped = [], [], []
    for rel, st in upper.items():
        if not storable(st):
            skipped.append(rel)
            continue
        lo = lower.get(rel)
        if lo is None:
            added.append(rel)
        elif changed(rel, lo, st, args.lower, args.upper):
            modified.append(rel)

    removed = []
    for rel in lower:
        if rel in upper:
            continue
        parent = rel.rpartition("/")[0]
        # Only the top of a removed subtree gets a whiteout: when the parent is gone too (or is no
        # longer a directory) the parent's own whiteout or replacement already hides this path.
        if parent != "" and (parent not in upper or not stat.S_ISDIR(upper[parent].st_mode)):
            continue
        removed.append(rel)

    # One sorted list: a parent sorts before its children, so extraction never meets a missing directory.
    items = [(rel, "file") for rel in added + modified]
    for rel in removed:
        d, _, base = rel.rpartition("/")
        items.append(((d + "/" if d else "") + WHITEOUT_PREFIX + base, "whiteout"))
    items.sort(key=lambda it: it[0].encode("utf-8", "surrogateescape"))

    first_link = {}  # (dev, ino) -> first path written in this layer, for hard links
    with tarfile.open(args.out, "w", format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape") as tf:
        for name, kind in items:
            ti = tarfile.TarInfo(name)
            ti.uname = ""
            ti.gname = ""
            if kind == "whiteout":
                parent = name.rpartition("/")[0]
                ti.type = tarfile.REGTYPE
                ti.mode = 0
                ti.size = 0
                # Deterministic: the whiteout carries the time its directory last changed.
                ti.mtime = int(upper[parent].st_mtime) if parent else 0
                tf.addfile(ti)
                continue
            st = upper[name]
            ti.mode = stat.S_IMODE(st.st_mode)
            ti.uid = st.st_uid
            ti.gid = st.st_gid
            ti.mtime = int(st.st_mtime)
            path = os.path.join(args.upper, name)
            m = st.st_mode
            if stat.S_ISDIR(m):
                ti.type = tarfile.DIRTYPE
                tf.addfile(ti)
            elif stat.S_ISLNK(m):
                ti.type = tarfile.SYMTYPE
                ti.linkname = os.readlink(path)
                tf.addfile(ti)
            elif stat.S_ISFIFO(m):
                ti.type = tarfile.FIFOTYPE
                tf.addfile(ti)
            else:
                key = (st.st_dev, st.st_ino)
                if st.st_nlink > 1 and key in first_link:
                    ti.type = tarfile.LNKTYPE
                    ti.linkname = first_link[key]
                    tf.addfile(ti)
                    continue
                if st.st_nlink > 1:
                    first_link[key] = name
                ti.type = tarfile.REGTYPE
                ti.size = st.st_size
                with open(path, "rb") as f:
                    tf.addfile(ti, f)

    print(
        f"layer-diff: {args.out}: {len(added)} added, {len(modified)} changed, "
        f"{len(removed)} whiteouts, {len(skipped)} skipped (devices/sockets)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
