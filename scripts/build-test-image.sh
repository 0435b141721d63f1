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

log() { printf '[build-test-image] %s\n' "$*" >&2; }
die() { printf '[build-test-image] error: %s\n' "$*" >&2; exit 1; }

force=0
for arg in "$@"; do
  case $arg in
    --force) force=1 ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (usage: $0 [--force])" ;;
  esac
done

if [[ $force == 0 && -f $DEST/.complete ]]; then
  log "cached image is complete"
  echo "$DEST"
  exit 0
fi

# --- tools -------------------------------------------------------------------------------------
missing=()
need() { # need COMMAND APT_PACKAGE
  command -v "$1" >/dev/null 2>&1 || missing+=("$1 (apt-get install $2)")
}
need debootstrap debootstrap
need skopeo skopeo
need zstd zstd
need gzip gzip
need tar tar
need "$PYTHON" python3
need dpkg-query dpkg
need dpkg dpkg
need chroot coreutils
need mount mount
need umount mount
need awk mawk
need flock util-linux
if (( ${#missing[@]} )); then
  die "missing tools: ${missing[*]}"
fi
[[ $(id -u) == 0 ]] || die "must run as root: debootstrap, chroot and mounting /proc need it"

ARCH=$(dpkg --print-architecture)

# --- one builder at a time; others wait, then find the cache complete --------------------------
mkdir -p "$PARENT"
exec 9>"$PARENT/.debian-bookworm.lock"
if ! flock -n 9; then
  log "another build holds $PARENT/.debian-bookworm.lock; waiting"
  flock 9
fi
if [[ $force == 0 && -f $DEST/.complete ]]; then
  log "cached image was completed by another build"
  echo "$DEST"
  exit 0
fi

started=$(date +%s)
WORK=$(mktemp -d "$PARENT/.debian-bookworm.build.XXXXXX")
cleanup() {
  # Whatever is still mounted under the work dir (ours, or debootstrap's if it was killed), deepest first.
  local m
  awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" || true
  done
  # --one-file-system: never follow a mount that failed to come off into the host.
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

OUT=$WORK/out
mkdir -p "$OUT/expected" "$WORK/layers"

snapshot_packages() { # snapshot_packages ROOT FILE
  dpkg-query --admindir="$1/var/lib/dpkg" -W \
    -f='${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n' >"$2"
  log "$(basename "$2"): $(wc -l <"$2") packages"
}

# Run a command in the chroot with /proc mounted, services blocked and the host's DNS.
in_chroot() { # in_chroot ROOT COMMAND...
  local root=$1; shift
  chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"
}
enter() { # enter ROOT: prepare for in_chroot
  local root=$1
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  if [[ -e $root/etc/resolv.conf || -L $root/etc/resolv.conf ]]; then
    mv "$root/etc/resolv.conf" "$root/etc/resolv.conf.clair-ts-saved"
  fi
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  mount -t proc proc "$root/proc"
}
leave() { # leave ROOT: undo enter, and drop what apt leaves behind
  local root=$1
  umount "$root/proc"
  rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/resolv.conf"
  if [[ -e $root/etc/resolv.conf.clair-ts-saved || -L $root/etc/resolv.conf.clair-ts-saved ]]; then
    mv "$root/etc/resolv.conf.clair-ts-saved" "$root/etc/resolv.conf"
  fi
  tidy "$root"
}
tidy() { # tidy ROOT: caches an image should not carry
  local root=$1
  find "$root/var/lib/apt/lists" "$root/var/cache/apt" -mindepth 1 -maxdepth 1 \
    \( -name partial -o -name archives \) -prune -o -print0 | xargs -0r rm -rf
  find "$root/var/cache/apt/archives" "$root/var/lib/apt/lists/partial" -type f -print0 | xargs -0r rm -f
}

# --- layer 1: debootstrap ----------------------------------------------------------------------
R1=$WORK/root1 R2=$WORK/root2 R3=$WORK/root3
log "layer 1: debootstrap --variant=minbase $SUITE from $DEBIAN_MIRROR (a few minutes)"
debootstrap --variant=minbase "$SUITE" "$R1" "$DEBIAN_MIRROR" >"$WORK/debootstrap.log" 2>&1 \
  || { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
# debootstrap copies the host's resolver and host name in and keeps its downloads; an image has none of them.
rm -f "$R1/etc/resolv.conf" "$R1/etc/hostname"
tidy "$R1"
snapshot_packages "$R1" "$OUT/expected/root1.tsv"
"$PYTHON" "$HERE/lib/layer-diff.py" "$R1" "$WORK/layers/1.tar"

# --- layer 2: install packages with a security history ----------------------------------------
log "layer 2: apt-get install ${INSTALL_PACKAGES[*]}"
cp -a "$R1" "$R2"
cat >"$R2/etc/apt/sources.list" <<EOF
deb $DEBIAN_MIRROR $SUITE main
deb $DEBIAN_MIRROR $SUITE-updates main
deb $DEBIAN_SECURITY_MIRROR $SUITE-security main
EOF
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
if [[ -e $DEST ]]; then
  mv "$DEST" "$WORK/previous"
fi
mv "$OUT" "$DEST"
log "done in $((finished - started))s: oci $(du -sh "$DEST/oci" | cut -f1), docker archive $(du -sh "$DEST/docker-archive.tar" | cut -f1)"
echo "$DEST"
