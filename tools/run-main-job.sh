#!/usr/bin/env bash
# The README's main job: installs what is missing, builds, then runs the
# stdlib's Hinton recipe on the real Fashion-MNIST (Debian's
# dataset-fashion-mnist): a ResNet teacher trained in the pipeline, a student
# trained from scratch and one distilled from the teacher, all evaluated on
# the 10,000 test images, the distilled student exported.
#
# Extra arguments go to `kdc run`, e.g. full length:
#   tools/run-main-job.sh --set teacher_epochs=30 --set student_epochs=30
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KDC_BUILD_DIR:-$root/build}"

"$root/tools/install-deps.sh"
"$root/tools/build.sh"
kdc="$build/bin/kdc"

out="$root/runs/hinton-$(date -u +%Y%m%dT%H%M%SZ)"
"$kdc" run hinton --out "$out" "$@"
echo
echo "kdc: the run directory is $out"
echo "kdc:   final.json      per-stage throughput, memory and test metrics"
echo "kdc:   metrics.jsonl   the loss and learning rate as training went"
echo "kdc:   manifest.json   spec and teacher hashes, seed, versions"
