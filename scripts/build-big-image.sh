#!/usr/bin/env bash
# Build a large real Debian bookworm image from Debian's own packages, for the benchmarks at the scale
# of a real application image (issue 17: ~1.37 GB uncompressed, 4 layers, ~900 packages, ~500 MB gzip).
# Built like scripts/build-test-image.sh (debootstrap, chroot + apt, scripts/lib/layer-diff.py per step,
# scripts/lib/oci-layout.py), with the helpers of scripts/lib/debian-root.sh:
#
#   layer 1  debootstrap bookworm (the default variant: required + important)
#   layer 2  apt-get install a C/C++ toolchain and development libraries
#   layer 3  apt-get install Java (JRE), Python, Ruby and Node.js with npm
#   layer 4  apt-get install Perl web frameworks and libraries, ImageMagick and Ghostscript
# Packages come from bookworm, bookworm-updates and bookworm-security, so the image carries security updates.
#
# Output, in ${CLAIR_TS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clair-ts}/test-images/debian-big/:
#   oci/                 OCI layout; tag "gzip" (every layer gzip), tag "zstd" (every layer zstd)
#   expected/root{1,2,3,4}.tsv  dpkg-query on each root: Package Version Architecture source:Package source:Version
#   expected/layers.json       layer digests and diff_ids in order, for both tags (config digest too)
#   expected/build.json        mirror, time, sizes
#   .complete            written last; its presence means the cache is whole
#
# usage: scripts/build-big-image.sh [--force]
# Needs root (debootstrap, chroot, mount), the network to reach the Debian mirror (~600 MB of packages),
# ~8 GB of free disk under the cache while building, and a few minutes. pigz is used when installed.
# Env: DEBIAN_MIRROR (default http://deb.debian.org/debian), DEBIAN_SECURITY_MIRROR
# (default http://deb.debian.org/debian-security), CLAIR_TS_CACHE, PYTHON (default python3).
set -euo pipefail

SUITE=bookworm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
PYTHON=${PYTHON:-python3}
# Chosen for size and package count together: the image the issue measured had ~900 packages in ~1.37 GB.
# Perl's module families (Catalyst, Dancer2, Moose) and npm's node-* libraries bring many small packages.
LAYER2_PACKAGES=(build-essential cmake git pkg-config autoconf automake libtool bison flex gdb
  libssl-dev zlib1g-dev libxml2-dev libxslt1-dev libcurl4-openssl-dev libsqlite3-dev libffi-dev libyaml-dev
  libreadline-dev libpq-dev libjpeg-dev libpng-dev libbz2-dev liblzma-dev libncurses-dev libgdbm-dev)
LAYER3_PACKAGES=(default-jre-headless python3-pip python3-venv python3-dev python3-yaml python3-requests
  ruby nodejs npm)
LAYER4_PACKAGES=(libwww-perl libjson-perl libcatalyst-perl libdancer2-perl libmoose-perl libdatetime-perl
  libtemplate-perl libdbd-pg-perl libdbd-sqlite3-perl libxml-libxml-perl imagemagick ghostscript)

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT=${CLAIR_TS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clair-ts}
PARENT=$CACHE_ROOT/test-images
DEST=$PARENT/debian-big
LOG_TAG=build-big-image
# shellcheck source=lib/debian-root.sh
source "$HERE/lib/debian-root.sh"

exit_if_cached 25 "$@"

require_tools zstd:zstd
ARCH=$(dpkg --print-architecture)
parallel=()
if command -v pigz >/dev/null 2>&1; then
  parallel=(--parallel)
else
  log "pigz not installed: compressing with gzip on one core (apt-get install pigz makes this faster)"
fi

take_build_lock "$PARENT" debian-big

started=$(date +%s)
make_workdir "$PARENT" debian-big
OUT=$WORK/out
mkdir -p "$OUT/expected" "$WORK/layers"

# apt's output (thousands of lines for these package sets) goes to a log, shown only when a step fails.
apt_logged() { # apt_logged ROOT COMMAND...
  if ! in_chroot "$@" >"$WORK/apt.log" 2>&1; then
    tail -n 40 "$WORK/apt.log" >&2
    die "${*:2} failed in the chroot (log above)"
  fi
}

# --- layer 1: debootstrap ----------------------------------------------------------------------
log "layer 1: debootstrap $SUITE from $DEBIAN_MIRROR (a few minutes)"
debootstrap_root "$WORK/root1" "$SUITE" "$DEBIAN_MIRROR"
write_sources "$WORK/root1" "$SUITE" "$DEBIAN_MIRROR" "$DEBIAN_SECURITY_MIRROR"
# The base layer is brought up to date from bookworm-updates and -security, as an image's base would be.
enter "$WORK/root1"
apt_logged "$WORK/root1" apt-get update -q
apt_logged "$WORK/root1" apt-get upgrade -y -q -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-unsafe-io
in_chroot "$WORK/root1" apt-get clean
leave "$WORK/root1"
snapshot_packages "$WORK/root1" "$OUT/expected/root1.tsv"
"$PYTHON" "$HERE/lib/layer-diff.py" "$WORK/root1" "$WORK/layers/1.tar"

# --- layers 2-4: apt-get install, each on a copy of the previous root ---------------------------
install_layer() { # install_layer N PACKAGE...
  local n=$1 lower=$WORK/root$(($1 - 1)) upper=$WORK/root$1; shift
  log "layer $n: apt-get install $*"
  cp -a "$lower" "$upper"
  enter "$upper"
  apt_logged "$upper" apt-get update -q
  # --force-unsafe-io: no fsync per unpacked file (the root is thrown away if the build fails); same files.
  apt_logged "$upper" apt-get install -y -q -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-unsafe-io \
    --no-install-recommends "$@"
  in_chroot "$upper" apt-get clean
  leave "$upper"
  snapshot_packages "$upper" "$OUT/expected/root$n.tsv"
  "$PYTHON" "$HERE/lib/layer-diff.py" --lower "$lower" "$upper" "$WORK/layers/$n.tar"
  rm -rf --one-file-system "$lower"
}
install_layer 2 "${LAYER2_PACKAGES[@]}"
install_layer 3 "${LAYER3_PACKAGES[@]}"
install_layer 4 "${LAYER4_PACKAGES[@]}"
rm -rf --one-file-system "$WORK/root4"

# --- OCI layout --------------------------------------------------------------------------------
log "writing the OCI layout (gzip and zstd of every layer)"
"$PYTHON" "$HERE/lib/oci-layout.py" --out "$OUT/oci" --layers-json "$OUT/expected/layers.json" --arch "$ARCH" \
  --layer "$WORK/layers/1.tar" --history "debootstrap $SUITE / $DEBIAN_MIRROR; apt-get upgrade" \
  --layer "$WORK/layers/2.tar" --history "apt-get install -y --no-install-recommends ${LAYER2_PACKAGES[*]}" \
  --layer "$WORK/layers/3.tar" --history "apt-get install -y --no-install-recommends ${LAYER3_PACKAGES[*]}" \
  --layer "$WORK/layers/4.tar" --history "apt-get install -y --no-install-recommends ${LAYER4_PACKAGES[*]}" \
  --zstd-layer all --tag gzip --zstd-tag zstd "${parallel[@]}"
tar_sizes=$(stat -c %s "$WORK"/layers/{1,2,3,4}.tar | paste -sd, -)
rm -rf "$WORK/layers"

finished=$(date +%s)
cat >"$OUT/expected/build.json" <<EOF
{
  "suite": "$SUITE",
  "architecture": "$ARCH",
  "mirror": "$DEBIAN_MIRROR",
  "securityMirror": "$DEBIAN_SECURITY_MIRROR",
  "installed": ["${LAYER2_PACKAGES[*]}", "${LAYER3_PACKAGES[*]}", "${LAYER4_PACKAGES[*]}"],
  "compression": "${parallel[*]:-single-threaded}",
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "buildSeconds": $((finished - started)),
  "layerTarBytes": [$tar_sizes],
  "ociBytes": $(du -sb "$OUT/oci" | cut -f1)
}
EOF
date -u +%Y-%m-%dT%H:%M:%SZ >"$OUT/.complete"

swap_into_place "$OUT" "$DEST"
log "done in $((finished - started))s: $(wc -l <"$DEST/expected/root4.tsv") packages, layers $tar_sizes bytes, oci $(du -sh "$DEST/oci" | cut -f1)"
echo "$DEST"
