#!/usr/bin/env bash
# Build the polyglot test image and source trees from real packages, for the language-package tests and benchmark.
# No Docker daemon: the Debian test image's base layer, then chroot + apt / pip / gem / bundler and the host's npm,
# each step diffed into a layer by scripts/lib/layer-diff.py; truth written by each ecosystem's own tool.
#
#   layer 1  the Debian test image's debootstrap minbase layer (scripts/build-test-image.sh builds it)
#   layer 2  apt-get install python3-jinja2 python3-yaml python3-venv ruby ruby-rack bundler   (Debian-owned packages)
#   layer 3  python3 -m venv /opt/venv (pip + setuptools by ensurepip); bundle lock of a Gemfile in /srv/stray
#   layer 4  /app: `npm install --ignore-scripts` of express, debug, @babel/code-frame, lodash (node_modules + lockfile);
#            a stray package-lock.json in /srv/stray (a lockfile with no node_modules: not installed packages)
#   layer 5  pip uninstall setuptools; npm uninstall lodash (removals → whiteouts); a malformed package.json
#   layer 6… one per scripts/polyglot-layers/*.sh hook, if any (see "more layers" below)
#
# Output, in ${CLAIR_TS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clair-ts}/test-images/polyglot/:
#   oci/                          OCI layout, tag "polyglot" (all gzip) and "polyglot-zstd" (layer 2 zstd)
#   tree/                         source trees for dir: scans (lockfiles of every kind; see "source trees" below)
#   expected/python.json          importlib.metadata over the final root: system python3 and /opt/venv's python
#   expected/gem-list.txt         `gem list --local` in the final root
#   expected/npm-ls.json          `npm ls --all --json` of /app after layer 5
#   expected/owners.tsv           `dpkg -S` of every language metadata file in the final root (path, owner or "-")
#   expected/tree/*.json|txt      truth for tree/: npm ls --package-lock-only, yarn list, pnpm ls, yarn info, Bundler
#   expected/layers.json          layer digests
#   .complete                     written last
#
# usage: scripts/build-polyglot-image.sh [--force]
# Needs root (chroot, mount), the Debian mirror and the npm registry (registry.npmjs.org, registry.yarnpkg.com).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=${PYTHON:-python3}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE_ROOT=${CLAIR_TS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clair-ts}
PARENT=$CACHE_ROOT/test-images
DEST=$PARENT/polyglot
APT_PACKAGES=(python3-jinja2 python3-yaml python3-venv ruby ruby-rack bundler)
NPM_PACKAGES=(express@4.18.2 debug@4.3.4 @babel/code-frame@7.22.13 lodash@4.17.20)
NPM_TOOLS=(yarn@1.22.22 pnpm@9.15.0 @yarnpkg/cli-dist@4.5.3)

LOG_TAG=build-polyglot-image
# shellcheck source=lib/build-cache.sh
source "$HERE/lib/build-cache.sh"

# The cached image is stale when the layer hooks (scripts/polyglot-layers/) changed since it was built.
HOOKS=$(cat "$HERE"/polyglot-layers/* 2>/dev/null | sha256sum | cut -c1-16)
cache_is_complete() { [[ -f $DEST/.complete ]] && grep -q "hooks $HOOKS" "$DEST/.complete"; }

exit_if_cached 28 "$@"
for t in npm node chroot mount gzip tar "$PYTHON" flock; do command -v "$t" >/dev/null || die "missing tool: $t"; done
[[ $(id -u) == 0 ]] || die "must run as root: chroot and mounting /proc need it"

BASE=$(bash "$HERE/build-test-image.sh")
ARCH=$(dpkg --print-architecture)

take_build_lock "$PARENT" polyglot

started=$(date +%s)
make_workdir "$PARENT" polyglot
OUT=$WORK/out
mkdir -p "$OUT/expected/tree" "$OUT/tree" "$WORK/layers"

in_chroot() { local root=$1; shift; chroot "$root" env -i PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }
enter() {
  local root=$1
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  mount -t proc proc "$root/proc"
  # The base layer carries an empty /dev (layers do not hold device nodes); apt's gpgv needs /dev/null.
  mount --bind /dev "$root/dev"
}
leave() {
  local root=$1
  umount "$root/dev"
  umount "$root/proc"
  rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/resolv.conf"
  find "$root/var/lib/apt/lists" -mindepth 1 -maxdepth 1 ! -name partial ! -name lock -print0 | xargs -0r rm -rf
  find "$root/var/cache/apt" -name '*.bin' -print0 | xargs -0r rm -f
  find "$root/root" -mindepth 1 -maxdepth 1 -name '.cache' -print0 | xargs -0r rm -rf
}
diff_layer() { "$PYTHON" "$HERE/lib/layer-diff.py" ${1:+--lower "$1"} "$2" "$3"; }

# --- layer 1: the Debian test image's base layer, unchanged -----------------------------------
layer1=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"].split(":")[1])' "$BASE/expected/layers.json")
R1=$WORK/root1
mkdir "$R1"
gzip -dc "$BASE/oci/blobs/sha256/$layer1" >"$WORK/layers/1.tar"
tar -xf "$WORK/layers/1.tar" -C "$R1" --numeric-owner
log "layer 1: base from $BASE"

# --- layer 2: Debian's python3-* and ruby-* -----------------------------------------------------
R2=$WORK/root2
cp -a "$R1" "$R2"
log "layer 2: apt-get install ${APT_PACKAGES[*]}"
echo "deb $DEBIAN_MIRROR bookworm main" >"$R2/etc/apt/sources.list"
enter "$R2"
in_chroot "$R2" apt-get update -q >&2
in_chroot "$R2" apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "${APT_PACKAGES[@]}" >&2
in_chroot "$R2" apt-get clean
leave "$R2"
diff_layer "$R1" "$R2" "$WORK/layers/2.tar"
rm -rf --one-file-system "$R1"

# --- layer 3: a virtualenv (pip-installed, not Debian's) and a stray Gemfile.lock ----------------
R3=$WORK/root3
cp -a "$R2" "$R3"
log "layer 3: python3 -m venv /opt/venv; bundle lock in /srv/stray"
enter "$R3"
in_chroot "$R3" python3 -m venv /opt/venv >&2
mkdir -p "$R3/srv/stray"
printf 'source "https://rubygems.org"\ngem "rack"\n' >"$R3/srv/stray/Gemfile"
in_chroot "$R3" sh -c 'cd /srv/stray && bundle lock --local' >&2
leave "$R3"
diff_layer "$R2" "$R3" "$WORK/layers/3.tar"
rm -rf --one-file-system "$R2"

# --- layer 4: an npm application with its lockfile; a stray lockfile ----------------------------
R4=$WORK/root4
cp -a "$R3" "$R4"
log "layer 4: npm install ${NPM_PACKAGES[*]} into /app"
APP=$WORK/app
mkdir -p "$APP"
printf '{\n  "name": "polyglot-app",\n  "version": "1.0.0",\n  "private": true\n}\n' >"$APP/package.json"
(cd "$APP" && npm install --ignore-scripts --no-audit --no-fund --save-exact "${NPM_PACKAGES[@]}" >&2)
cp -a "$APP" "$R4/app"
cp "$APP/package-lock.json" "$R4/srv/stray/package-lock.json"
diff_layer "$R3" "$R4" "$WORK/layers/4.tar"
rm -rf --one-file-system "$R3"

# --- layer 5: removals and a malformed file ------------------------------------------------------
R5=$WORK/root5
cp -a "$R4" "$R5"
log "layer 5: pip uninstall setuptools; npm uninstall lodash; a malformed package.json"
enter "$R5"
in_chroot "$R5" /opt/venv/bin/pip uninstall -y -q setuptools >&2
leave "$R5"
(cd "$R5/app" && npm uninstall --ignore-scripts --no-audit --no-fund lodash >&2)
(cd "$R5/app" && npm ls --all --json >"$OUT/expected/npm-ls.json")
mkdir -p "$R5/app/node_modules/broken-package"
printf '{ "name": "broken-package", "version": \n' >"$R5/app/node_modules/broken-package/package.json"
diff_layer "$R4" "$R5" "$WORK/layers/5.tar"
rm -rf --one-file-system "$R4"

# --- more layers: scripts/polyglot-layers/*.sh, in name order -----------------------------------
# Each hook is run as `bash HOOK ROOT EXPECTED TREE`: ROOT is a copy of the previous root for it to change, EXPECTED
# (expected/<hook name>/) a folder for the truth its ecosystem's tool prints, TREE the source-tree folder (tree/) where
# it may add a tree of its own for dir: scans. Its changes to ROOT become one more layer.
n=5 RF=$R5
layer_args=()
for hook in "$HERE"/polyglot-layers/*.sh; do
  [[ -e $hook ]] || continue
  name=$(basename "$hook" .sh)
  n=$((n + 1))
  log "layer $n: $name"
  cp -a "$RF" "$WORK/root$n"
  mkdir -p "$OUT/expected/$name"
  bash "$hook" "$WORK/root$n" "$OUT/expected/$name" "$OUT/tree" >&2
  diff_layer "$RF" "$WORK/root$n" "$WORK/layers/$n.tar"
  rm -rf --one-file-system "$RF"
  RF=$WORK/root$n
  layer_args+=(--layer "$WORK/layers/$n.tar" --history "$name")
done

# --- truth over the final root ------------------------------------------------------------------
log "truth: importlib.metadata, gem list, dpkg -S"
cat >"$WORK/dists.py" <<'EOF'
import importlib.metadata, json, sys
print(json.dumps([{"name": d.metadata["Name"], "version": d.version, "path": str(d._path)} for d in importlib.metadata.distributions()]))
EOF
cp "$WORK/dists.py" "$RF/tmp/dists.py"
{
  printf '{"system": '; in_chroot "$RF" python3 -I /tmp/dists.py
  printf ', "venv": '; in_chroot "$RF" /opt/venv/bin/python -I /tmp/dists.py
  printf '}\n'
} >"$OUT/expected/python.json"
rm "$RF/tmp/dists.py"
in_chroot "$RF" gem list --local >"$OUT/expected/gem-list.txt"
(cd "$RF" && find . \( -path '*.dist-info/METADATA' -o -path '*.egg-info/PKG-INFO' -o -path '*/specifications/*.gemspec' -o -path '*/node_modules/*/package.json' \) -type f | sed 's|^\./||' | sort) |
  while read -r f; do
    owner=$(chroot "$RF" dpkg-query -S "/$f" 2>/dev/null | head -n1 | cut -d: -f1 || true)
    printf '%s\t%s\n' "$f" "${owner:--}"
  done >"$OUT/expected/owners.tsv"

# --- source trees for dir: scans, with their tools' truth ---------------------------------------
# tree/npm-lock   package.json + package-lock.json, no node_modules   truth: npm ls --package-lock-only
# tree/yarn-v1    yarn.lock from yarn 1 (node_modules removed)        truth: yarn list (before removal)
# tree/yarn-berry yarn.lock from yarn 4, --mode=update-lockfile       truth: yarn info --all --recursive
# tree/pnpm       pnpm-lock.yaml and pnpm's node_modules (symlinks)   truth: pnpm ls --depth Infinity
# tree/ruby       Gemfile + Gemfile.lock from bundle lock             truth: Bundler's LockfileParser
log "source trees"
TOOLS=$WORK/tools
mkdir -p "$TOOLS"
(cd "$TOOLS" && npm install --ignore-scripts --no-audit --no-fund --prefix "$TOOLS" "${NPM_TOOLS[@]}" >&2)
T=$OUT/tree
mkdir -p "$T/npm-lock" "$T/yarn-v1" "$T/yarn-berry" "$T/pnpm" "$T/ruby"
cp "$RF/app/package.json" "$RF/app/package-lock.json" "$T/npm-lock/"
(cd "$T/npm-lock" && npm ls --all --json --package-lock-only >"$OUT/expected/tree/npm-lock.json")
for d in yarn-v1 yarn-berry pnpm; do cp "$RF/app/package.json" "$T/$d/"; done
(cd "$T/yarn-v1" && node "$TOOLS/node_modules/yarn/bin/yarn.js" install --ignore-scripts --no-progress --non-interactive >&2 &&
  node "$TOOLS/node_modules/yarn/bin/yarn.js" list --json --no-progress >"$OUT/expected/tree/yarn-v1.json" && rm -rf node_modules)
(cd "$T/yarn-berry" && touch yarn.lock && printf 'nodeLinker: node-modules\nenableTelemetry: false\n' >.yarnrc.yml &&
  YARN_ENABLE_GLOBAL_CACHE=0 YARN_CACHE_FOLDER="$WORK/berry-cache" node "$TOOLS/node_modules/@yarnpkg/cli-dist/bin/yarn.js" install --mode=update-lockfile >&2 &&
  node "$TOOLS/node_modules/@yarnpkg/cli-dist/bin/yarn.js" info --all --recursive --json >"$OUT/expected/tree/yarn-berry.json" &&
  rm -rf .yarn .yarnrc.yml .pnp.* )
(cd "$T/pnpm" && node "$TOOLS/node_modules/pnpm/bin/pnpm.cjs" install --ignore-scripts --config.confirmModulesPurge=false >&2 &&
  node "$TOOLS/node_modules/pnpm/bin/pnpm.cjs" ls --depth Infinity --json >"$OUT/expected/tree/pnpm.json")
cp "$RF/srv/stray/Gemfile" "$RF/srv/stray/Gemfile.lock" "$T/ruby/"
enter "$RF"
in_chroot "$RF" sh -c 'cd /srv/stray && ruby -rbundler -rjson -e "puts JSON.generate(Bundler::LockfileParser.new(File.read(%q(Gemfile.lock))).specs.map { |s| [s.name, s.version.to_s] })"' >"$OUT/expected/tree/ruby.json"
leave "$RF"
rm -rf --one-file-system "$RF"

# --- OCI layout ---------------------------------------------------------------------------------
log "writing the OCI layout"
"$PYTHON" "$HERE/lib/oci-layout.py" --out "$OUT/oci" --layers-json "$OUT/expected/layers.json" --arch "$ARCH" \
  --layer "$WORK/layers/1.tar" --history "debootstrap --variant=minbase bookworm" \
  --layer "$WORK/layers/2.tar" --history "apt-get install ${APT_PACKAGES[*]}" \
  --layer "$WORK/layers/3.tar" --history "python3 -m venv /opt/venv; bundle lock" \
  --layer "$WORK/layers/4.tar" --history "npm install ${NPM_PACKAGES[*]}" \
  --layer "$WORK/layers/5.tar" --history "pip uninstall setuptools; npm uninstall lodash" "${layer_args[@]}" \
  --tag polyglot --zstd-tag polyglot-zstd
finished=$(date +%s)
printf '{"builtAt": "%s", "buildSeconds": %d, "layerTarBytes": [%s]}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" $((finished - started)) \
  "$(stat -c %s "$WORK"/layers/*.tar | paste -sd, -)" >"$OUT/expected/build.json"
printf '%s hooks %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$HOOKS" >"$OUT/.complete"
if [[ -e $DEST ]]; then mv "$DEST" "$WORK/previous"; fi
mv "$OUT" "$DEST"
log "done in $((finished - started))s"
echo "$DEST"
