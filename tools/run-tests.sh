#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs every
# test (lit compiler tests and GoogleTest unit tests) through CTest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KDC_BUILD_DIR:-$root/build}"

"$root/tools/install-deps.sh"
start=$(date +%s)
"$root/tools/build.sh"
echo "kdc: build took $(( $(date +%s) - start )) s"
start=$(date +%s)
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
echo "kdc: tests took $(( $(date +%s) - start )) s"
