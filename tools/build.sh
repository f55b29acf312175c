#!/usr/bin/env bash
# Configures and builds kdc into ./build (Ninja, Release, ccache when present).
# Usage: tools/build.sh [extra cmake -D options...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KDC_BUILD_DIR:-$root/build}"
jobs="${KDC_JOBS:-$(nproc)}"

if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja "$@"
elif [ $# -gt 0 ]; then
  cmake "$build" "$@"
fi
cmake --build "$build" -j "$jobs"
