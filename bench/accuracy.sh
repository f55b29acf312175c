#!/usr/bin/env bash
# Accuracy of the Hinton recipe in kdc and in PyTorch, seed by seed, and a
# table of mean ± sample standard deviation (docs/results.md).
#
# Usage: bench/accuracy.sh [--seeds "0 1 2"] [--threads N]
#                          [--epochs-teacher N] [--epochs-student N]
#                          [--out DIR | --resume DIR]
#   --seeds LIST         seeds for both sides (default "0 1 2")
#   --threads N          threads per run (default 1; the two sides run one
#                        after the other per seed)
#   --epochs-teacher N   teacher epochs on both sides (default: the recipe's, 3)
#   --epochs-student N   scratch and distilled student epochs (default 3)
#   --out DIR            where the runs go (default bench/results/accuracy-<time>)
#   --resume DIR         go on with the runs in DIR: stages that completed
#                        there are loaded, not trained again (a 30-epoch
#                        seed takes hours; a stopped one loses at most the
#                        stage it was in)
# Uses the kdc in $KDC_BUILD_DIR (default build/) and bench/.venv (bench/setup.sh).
set -uo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$bench")"
kdc="${KDC_BUILD_DIR:-$root/build}/bin/kdc"
python="$bench/.venv/bin/python"

script=bench/accuracy.sh
. "$bench/common.sh"
seeds="0 1 2"
threads=1
teacher=3
student=3
out="$bench/results/accuracy-$(date -u +%Y-%m-%dT%H-%M-%SZ)"
resume=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) [ $# -ge 2 ] || die "--seeds needs a value"; seeds="$2"; shift 2 ;;
    --threads) [ $# -ge 2 ] || die "--threads needs a value"; positive "$1" "$2"; threads="$2"; shift 2 ;;
    --epochs-teacher) [ $# -ge 2 ] || die "--epochs-teacher needs a value"; positive "$1" "$2"; teacher="$2"; shift 2 ;;
    --epochs-student) [ $# -ge 2 ] || die "--epochs-student needs a value"; positive "$1" "$2"; student="$2"; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a value"; out="$2"; shift 2 ;;
    --resume) [ $# -ge 2 ] || die "--resume needs a value"; [ -d "$2" ] || die "no directory '$2' to resume"
              out="$2"; resume=1; shift 2 ;;
    -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[ -x "$kdc" ] || die "no $kdc: run tools/build.sh first"
[ -x "$python" ] || die "no bench/.venv: run bench/setup.sh first"
for seed in $seeds; do
  [[ "$seed" =~ ^[0-9]+$ ]] || die "seeds are non-negative integers, got '$seed'"
done
mkdir -p "$out"
echo "bench/accuracy.sh: runs in $out"
for seed in $seeds; do
  echo "seed $seed: kdc"
  # A run directory kdc already started is continued, never overwritten.
  where=(--out "$out/kdc-s$seed")
  [ "$resume" = 1 ] && [ -e "$out/kdc-s$seed/plan.kdx" ] && where=(--resume "$out/kdc-s$seed")
  "$kdc" run "$root/stdlib/recipes/hinton.kd" --json --threads "$threads" --seed "$seed" \
    --set teacher_epochs="$teacher" --set student_epochs="$student" \
    "${where[@]}" > "$out/kdc-s$seed.jsonl" 2>> "$out/kdc-s$seed.log" \
    || echo "seed $seed: kdc failed (see $out/kdc-s$seed.log)" >&2
  echo "seed $seed: pytorch"
  again=()
  [ "$resume" = 1 ] && again=(--resume)
  "$python" "$bench/pytorch/hinton.py" --json --threads "$threads" --seed "$seed" \
    --epochs-teacher "$teacher" --epochs-student "$student" --no-cached "${again[@]}" \
    --out "$out/pytorch-s$seed" > "$out/pytorch-s$seed.jsonl" 2>> "$out/pytorch-s$seed.log" \
    || echo "seed $seed: pytorch failed (see $out/pytorch-s$seed.log)" >&2
done
python3 "$bench/accuracy_table.py" "$out"
