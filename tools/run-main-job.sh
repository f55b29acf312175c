#!/usr/bin/env bash
# The README's main job: installs what is missing, builds, and checks every
# recipe of the stdlib and every example with `kdc check`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KDC_BUILD_DIR:-$root/build}"

"$root/tools/install-deps.sh"
"$root/tools/build.sh"
kdc="$build/bin/kdc"

status=0
mapfile -t files < <(cd "$root" && find stdlib examples -name '*.kd' | sort)
for f in "${files[@]}"; do
  if "$kdc" check "$root/$f"; then
    echo "ok    $f"
  else
    echo "FAIL  $f"
    status=1
  fi
done
echo "kdc: checked ${#files[@]} files"
exit $status
