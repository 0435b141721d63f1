# Shell helpers shared by the scripts that build Debian images from Debian's own packages
# (scripts/build-test-image.sh, scripts/build-big-image.sh). Sourced, not run.
#
# The sourcing script sets LOG_TAG (the prefix of its messages) and DEST (the image's cache folder) before sourcing,
# then calls, in order:
#   exit_if_cached HELP_END "$@"                 --force / --help / the cached image when it is complete
#   require_tools EXTRA_COMMAND:APT_PACKAGE...   the tools every build needs, plus its own; dies listing what is missing
#   take_build_lock PARENT NAME                  one builder at a time (file PARENT/.NAME.lock); others wait
#   make_workdir PARENT NAME                     WORK=PARENT/.NAME.build.XXXXXX, removed (mounts first) on exit
# and, per build step: enter ROOT / in_chroot ROOT CMD... / leave ROOT, snapshot_packages ROOT FILE, tidy ROOT.

log() { printf '[%s] %s\n' "$LOG_TAG" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$LOG_TAG" "$*" >&2; exit 1; }

# exit_if_cached HELP_END ARGS...: the script's arguments. --help prints its header comment (lines 2 to HELP_END) and
# exits; unless --force is given, a complete cached image ($DEST/.complete) is reported, its folder printed, and the
# script exits 0. Sets `force` (1 with --force) for the check again after take_build_lock.
exit_if_cached() {
  local help_end=$1 arg
  force=0
  shift
  for arg in "$@"; do
    case $arg in
      --force) force=1 ;;
      -h|--help) sed -n "2,${help_end}p" "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *) die "unknown argument '$arg' (usage: $0 [--force])" ;;
    esac
  done
  if [[ $force == 0 && -f $DEST/.complete ]]; then
    log "cached image is complete"
    echo "$DEST"
    exit 0
  fi
}

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

# take_build_lock PARENT NAME: holds fd 9 for the rest of the script. Returns at once when free, else after the
# other build ends; the caller then checks again whether the cache is complete.
take_build_lock() {
  mkdir -p "$1"
  exec 9>"$1/.$2.lock"
  if ! flock -n 9; then
    log "another build holds $1/.$2.lock; waiting"
    flock 9
  fi
}

# make_workdir PARENT NAME: sets WORK, and removes it on exit, whatever is still mounted under it first.
make_workdir() {
  WORK=$(mktemp -d "$1/.$2.build.XXXXXX")
  trap cleanup_workdir EXIT
  trap 'exit 130' INT TERM
}
cleanup_workdir() {
  # Whatever is still mounted under the work dir (ours, or debootstrap's if it was killed), deepest first.
  local m
  awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" || true
  done
  # --one-file-system: never follow a mount that failed to come off into the host.
  rm -rf --one-file-system "$WORK"
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
