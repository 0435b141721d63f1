#!/usr/bin/env bash
# Build a real Debian bookworm container image from Debian's own packages, for the acceptance
# tests and benchmarks. No Docker daemon is needed: debootstrap makes the root, chroot + apt change
# it, scripts/lib/layer-diff.py turns each step into a layer, scripts/lib/oci-layout.py writes the
# OCI layout and skopeo converts it to a `docker save` archive.
#
#   layer 1  debootstrap --variant=minbase bookworm            (base system, apt caches removed)
#   layer 2  apt-get install curl libxml2 openssl sqlite3 libexpat1   (bookworm + bookworm-security)
#   layer 3  apt-get purge sqlite3                             (files removed → whiteouts)
#
# Output, in ${CLAIR_TS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clair-ts}/test-images/debian-bookworm/:
#   oci/                 OCI layout; tag "bookworm" (all layers gzip), tag "zstd" (layer 2 zstd)
#   docker-archive.tar   `docker save` archive, image clair-ts/test-debian:bookworm
#   expected/root{1,2,3}.tsv   dpkg-query on each root: Package Version Architecture source:Package source:Version
#   expected/layers.json       layer digests and diff_ids in order (config digest too)
#   expected/build.json        mirror, time, sizes
#   .complete            written last; its presence means the cache is whole
#
# usage: scripts/build-test-image.sh [--force]
# Needs root (debootstrap, chroot, mount) and the network to reach the Debian mirror.
# Env: DEBIAN_MIRROR (default http://deb.debian.org/debian), DEBIAN_SECURITY_MIRROR
# (default http://deb.debian.org/debian-security), CLAIR_TS_CACHE, PYTHON (default python3).
set -euo pipefail

SUITE=bookworm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
PYTHON=${PYTHON:-python3}
INSTALL_PACKAGES=(curl libxml2 openssl sqlite3 libexpat1)
PURGE_PACKAGES=(sqlite3)
IMAGE_NAME=clair-ts/test-debian:bookworm

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT=${CLAIR_TS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clair-ts}
PARENT=$CACHE_ROOT/test-images
DEST=$PARENT/debian-bookworm
LOG_TAG=build-test-image
# shellcheck source=lib/debian-root.sh
source "$HERE/lib/debian-root.sh"

exit_if_cached 24 "$@"

require_tools skopeo:skopeo zstd:zstd
ARCH=$(dpkg --print-architecture)

# --- one builder at a time; others wait, then find the cache complete --------------------------
take_build_lock "$PARENT" debian-bookworm

started=$(date +%s)
make_workdir "$PARENT" debian-bookworm
OUT=$WORK/out
mkdir -p "$OUT/expected" "$WORK/layers"

# --- layer 1: debootstrap ----------------------------------------------------------------------
R1=$WORK/root1 R2=$WORK/root2 R3=$WORK/root3
log "layer 1: debootstrap --variant=minbase $SUITE from $DEBIAN_MIRROR (a few minutes)"
debootstrap_root "$R1" "$SUITE" "$DEBIAN_MIRROR" --variant=minbase
snapshot_packages "$R1" "$OUT/expected/root1.tsv"
"$PYTHON" "$HERE/lib/layer-diff.py" "$R1" "$WORK/layers/1.tar"

# --- layer 2: install packages with a security history ----------------------------------------
log "layer 2: apt-get install ${INSTALL_PACKAGES[*]}"
cp -a "$R1" "$R2"
write_sources "$R2" "$SUITE" "$DEBIAN_MIRROR" "$DEBIAN_SECURITY_MIRROR"
enter "$R2"
in_chroot "$R2" apt-get update -q >&2
in_chroot "$R2" apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "${INSTALL_PACKAGES[@]}" >&2
in_chroot "$R2" apt-get clean
leave "$R2"
snapshot_packages "$R2" "$OUT/expected/root2.tsv"
"$PYTHON" "$HERE/lib/layer-diff.py" --lower "$R1" "$R2" "$WORK/layers/2.tar"
rm -rf --one-file-system "$R1"

# --- layer 3: purge a package, so its files become whiteouts -----------------------------------
log "layer 3: apt-get purge ${PURGE_PACKAGES[*]}"
cp -a "$R2" "$R3"
enter "$R3"
in_chroot "$R3" apt-get purge -y -q -o Dpkg::Use-Pty=0 "${PURGE_PACKAGES[@]}" >&2
leave "$R3"
snapshot_packages "$R3" "$OUT/expected/root3.tsv"
"$PYTHON" "$HERE/lib/layer-diff.py" --lower "$R2" "$R3" "$WORK/layers/3.tar"
rm -rf --one-file-system "$R2" "$R3"

# --- OCI layout and docker archive -------------------------------------------------------------
log "writing the OCI layout"
"$PYTHON" "$HERE/lib/oci-layout.py" --out "$OUT/oci" --layers-json "$OUT/expected/layers.json" --arch "$ARCH" \
  --layer "$WORK/layers/1.tar" --history "debootstrap --variant=minbase $SUITE / $DEBIAN_MIRROR" \
  --layer "$WORK/layers/2.tar" --history "apt-get install -y --no-install-recommends ${INSTALL_PACKAGES[*]}" \
  --layer "$WORK/layers/3.tar" --history "apt-get purge -y ${PURGE_PACKAGES[*]}" \
  --zstd-layer 2 --tag bookworm --zstd-tag zstd
tar_sizes=$(stat -c %s "$WORK"/layers/{1,2,3}.tar | paste -sd, -)
rm -rf "$WORK/layers"

log "writing the docker archive (skopeo)"
# Both ends are local files: no signature policy applies, hence --insecure-policy.
skopeo --insecure-policy copy -q "oci:$OUT/oci:bookworm" "docker-archive:$OUT/docker-archive.tar:$IMAGE_NAME" >&2

finished=$(date +%s)
cat >"$OUT/expected/build.json" <<EOF
{
  "suite": "$SUITE",
  "architecture": "$ARCH",
  "mirror": "$DEBIAN_MIRROR",
  "securityMirror": "$DEBIAN_SECURITY_MIRROR",
  "installed": "${INSTALL_PACKAGES[*]}",
  "purged": "${PURGE_PACKAGES[*]}",
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "buildSeconds": $((finished - started)),
  "layerTarBytes": [$tar_sizes],
  "ociBytes": $(du -sb "$OUT/oci" | cut -f1),
  "dockerArchiveBytes": $(stat -c %s "$OUT/docker-archive.tar")
}
EOF
date -u +%Y-%m-%dT%H:%M:%SZ >"$OUT/.complete"

# --- swap into place: the old cache (if any) goes only once the new one is whole ----------------
swap_into_place "$OUT" "$DEST"
log "done in $((finished - started))s: oci $(du -sh "$DEST/oci" | cut -f1), docker archive $(du -sh "$DEST/docker-archive.tar" | cut -f1)"
echo "$DEST"
