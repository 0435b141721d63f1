#!/usr/bin/env bash
# Polyglot layer: Go, Rust and Java artifacts built on this machine (scripts/polyglot-layers/go-rust-java.ts).
# usage (by scripts/build-polyglot-image.sh): bash 50-go-rust-java.sh ROOT EXPECTED TREE
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec "$HERE/../../node_modules/.bin/node" "$HERE/go-rust-java.ts" "$@"
