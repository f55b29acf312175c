#!/usr/bin/env bash
# Accuracy of the Hinton recipe in kdc and in PyTorch, seed by seed, and a
# table of mean ± sample standard deviation (docs/results.md).
#
# Usage: bench/accuracy.sh [--seeds "0 1 2"] [--threads N]
#                          [--epochs-teacher N] [--epochs-student N] [--out DIR]
#   --seeds LIST         seeds for both sides (default "0 1 2")
#   --threads N          threads per run (default 1; the two sides run one
#                        after the other per seed)
#   --epochs-teacher N   teacher epochs on both sides (default: the recipe's, 3)
#   --epochs-student N   scratch and distilled student epochs (default 3)
#   --out DIR            where the runs go (default bench/results/accuracy-<time>)
# Uses the kdc in $KDC_BUILD_DIR (default build/) and bench/.venv (bench/setup.sh).
set -uo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$bench")"
kdc="${KDC_BUILD_DIR:-$root/build}/bin/kdc"
python="$bench/.venv/bin/python"

die() { echo "bench/accuracy.sh: error: $*" >&2; exit 2; }
positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive integer, got '$2'"; }
seeds="0 1 2"
threads=1
teacher=3
student=3
out="$bench/results/accuracy-$(date -u +%Y-%m-%dT%H-%M-%SZ)"
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) [ $# -ge 2 ] || die "--seeds needs a value"; seeds="$2"; shift 2 ;;
    --threads) [ $# -ge 2 ] || die "--threads needs a value"; positive "$1" "$2"; threads="$2"; shift 2 ;;
    --epochs-teacher) [ $# -ge 2 ] || die "--epochs-teacher needs a value"; positive "$1" "$2"; teacher="$2"; shift 2 ;;
    --epochs-student) [ $# -ge 2 ] || die "--epochs-student needs a value"; positive "$1" "$2"; student="$2"; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a value"; out="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
  "$kdc" run "$root/stdlib/recipes/hinton.kd" --json --threads "$threads" --seed "$seed" \
    --set teacher_epochs="$teacher" --set student_epochs="$student" \
    --out "$out/kdc-s$seed" > "$out/kdc-s$seed.jsonl" 2> "$out/kdc-s$seed.log" \
    || echo "seed $seed: kdc failed (see $out/kdc-s$seed.log)" >&2
  echo "seed $seed: pytorch"
  "$python" "$bench/pytorch/hinton.py" --json --threads "$threads" --seed "$seed" \
    --epochs-teacher "$teacher" --epochs-student "$student" \
    --out "$out/pytorch-s$seed" > "$out/pytorch-s$seed.jsonl" 2> "$out/pytorch-s$seed.log" \
    || echo "seed $seed: pytorch failed (see $out/pytorch-s$seed.log)" >&2
done
python3 "$bench/accuracy_table.py" "$out"
