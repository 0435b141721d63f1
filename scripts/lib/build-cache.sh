# Shell helpers for the scripts that build a test image into the cache (scripts/build-test-image.sh,
# scripts/build-big-image.sh, scripts/build-polyglot-image.sh): messages, --force/--help, the cached-image exit, one
# builder at a time, and a work folder removed on exit. Sourced, not run.
#
# The sourcing script sets LOG_TAG (the prefix of its messages) and DEST (the image's cache folder) before sourcing,
# may redefine cache_is_complete (after sourcing) when a finished cache can go stale, then calls, in order:
#   exit_if_cached HELP_END "$@"                 --force / --help / the cached image when it is complete
#   take_build_lock PARENT NAME                  one builder at a time (file PARENT/.NAME.lock); others wait
#   make_workdir PARENT NAME                     WORK=PARENT/.NAME.build.XXXXXX, removed (mounts first) on exit

# cache_is_complete: whether $DEST holds a finished build; a build writes $DEST/.complete last.
cache_is_complete() { [[ -f $DEST/.complete ]]; }

log() { printf '[%s] %s\n' "$LOG_TAG" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$LOG_TAG" "$*" >&2; exit 1; }

# exit_if_cached HELP_END ARGS...: the script's arguments. --help prints its header comment (lines 2 to HELP_END) and
# exits; unless --force is given, a complete cached image (cache_is_complete) is reported, its folder printed, and the
# script exits 0. Sets `force` (1 with --force) for the check again in take_build_lock.
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
  if [[ $force == 0 ]] && cache_is_complete; then
    log "cached image is complete"
    echo "$DEST"
    exit 0
  fi
}

# take_build_lock PARENT NAME: holds fd 9 for the rest of the script. Returns at once when free, else after the
# other build ends; when that build completed the cache (and --force was not given), the script exits 0 with its
# folder printed instead of building it again.
take_build_lock() {
  mkdir -p "$1"
  exec 9>"$1/.$2.lock"
  if ! flock -n 9; then
    log "another build holds $1/.$2.lock; waiting"
    flock 9
  fi
  if [[ $force == 0 ]] && cache_is_complete; then
    log "cached image was completed by another build"
    echo "$DEST"
    exit 0
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

