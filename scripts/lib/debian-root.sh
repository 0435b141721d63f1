# Shell helpers shared by the scripts that build Debian images from Debian's own packages
# (scripts/build-test-image.sh, scripts/build-big-image.sh). Sourced, not run; sources lib/build-cache.sh (the cache,
# the build lock, the work folder: see its calls there) and adds, called right after exit_if_cached:
#   require_tools EXTRA_COMMAND:APT_PACKAGE...   the tools every build needs, plus its own; dies listing what is missing
# and, per build step: enter ROOT / in_chroot ROOT CMD... / leave ROOT, snapshot_packages ROOT FILE, tidy ROOT.

# shellcheck source=build-cache.sh
source "$(dirname "${BASH_SOURCE[0]}")/build-cache.sh"

# require_tools [COMMAND:APT_PACKAGE...]: the base set every build uses, plus the caller's.
require_tools() {
  local missing=() pair cmd pkg
  for pair in debootstrap:debootstrap gzip:gzip tar:tar "${PYTHON:-python3}:python3" dpkg-query:dpkg dpkg:dpkg \
    chroot:coreutils mount:mount umount:mount awk:mawk flock:util-linux "$@"; do
    cmd=${pair%%:*} pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd (apt-get install $pkg)")
  done
  if (( ${#missing[@]} )); then
    die "missing tools: ${missing[*]}"
  fi
  [[ $(id -u) == 0 ]] || die "must run as root: debootstrap, chroot and mounting /proc need it"
}

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

# debootstrap_root ROOT SUITE MIRROR [DEBOOTSTRAP_OPTION...]: a fresh root without what debootstrap leaves behind.
debootstrap_root() {
  local root=$1 suite=$2 mirror=$3; shift 3
  debootstrap "$@" "$suite" "$root" "$mirror" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  # debootstrap copies the host's resolver and host name in and keeps its downloads; an image has none of them.
  rm -f "$root/etc/resolv.conf" "$root/etc/hostname"
  tidy "$root"
}

# write_sources ROOT SUITE MIRROR SECURITY_MIRROR: the release, its updates and its security archive.
write_sources() {
  cat >"$1/etc/apt/sources.list" <<EOF
deb $3 $2 main
deb $3 $2-updates main
deb $4 $2-security main
EOF
}

# swap_into_place OUT DEST: the old cache (if any) goes only once the new one is whole.
swap_into_place() {
  if [[ -e $2 ]]; then
    mv "$2" "$WORK/previous"
  fi
  mv "$1" "$2"
}
