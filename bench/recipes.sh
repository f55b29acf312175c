#!/usr/bin/env bash
# Runs stdlib recipes on Fashion-MNIST and prints their results tables
# (docs/results.md): one `kdc run` per recipe and seed, then
# tools/results-table.py over the run directories.
#
# Usage: bench/recipes.sh [--max-steps N] [--seeds "0 1 2"] [--threads N]
#                         [--set K=V]... [--out DIR] [RECIPE...]
#   --max-steps N  cap every stage at N optimizer steps (default: the
#                  recipes' own epochs, no cap)
#   --seeds LIST   seeds to run each recipe with (default "0")
#   --threads N    threads per run (default: one per core)
#   --set K=V      passed to every `kdc run` (repeatable), e.g.
#                  --set teacher_epochs=30
#   --out DIR      where the run directories go (default
#                  bench/results/recipes-<UTC time>)
#   RECIPE...      recipe names (default: every recipe `kdc list` shows)
# Uses the kdc in $KDC_BUILD_DIR (default build/); run tools/build.sh first.
set -uo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$bench")"
kdc="${KDC_BUILD_DIR:-$root/build}/bin/kdc"

script=bench/recipes.sh
. "$bench/common.sh"
max_steps=""
seeds="0"
threads="$(nproc)"
out="$bench/results/recipes-$(date -u +%Y-%m-%dT%H-%M-%SZ)"
recipes=()
sets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --max-steps) [ $# -ge 2 ] || die "--max-steps needs a value"; max_steps="$2"; shift 2 ;;
    --seeds) [ $# -ge 2 ] || die "--seeds needs a value"; seeds="$2"; shift 2 ;;
    --threads) [ $# -ge 2 ] || die "--threads needs a value"; threads="$2"; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a value"; out="$2"; shift 2 ;;
    --set) [ $# -ge 2 ] || die "--set needs KEY=VALUE"; sets+=(--set "$2"); shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) recipes+=("$1"); shift ;;
  esac
done
[ -x "$kdc" ] || die "no $kdc: run tools/build.sh first"
if [ ${#recipes[@]} -eq 0 ]; then
  mapfile -t recipes < <("$kdc" list | awk 'NF { print $1 }')
fi
mkdir -p "$out"
runs=()
failed=0
for recipe in "${recipes[@]}"; do
  for seed in $seeds; do
    dir="$out/$recipe-s$seed"
    flags=(--out "$dir" --seed "$seed" --threads "$threads" --json)
    [ -n "$max_steps" ] && flags+=(--max-steps "$max_steps")
    flags+=("${sets[@]}")
    echo "bench/recipes.sh: $recipe seed $seed -> $dir" >&2
    start=$(date +%s)
    if "$kdc" run "$recipe" "${flags[@]}" > "$dir.json" 2> "$dir.log"; then
      echo "bench/recipes.sh: $recipe seed $seed done in $(( $(date +%s) - start )) s" >&2
      runs+=("$dir")
    else
      echo "bench/recipes.sh: $recipe seed $seed FAILED (see $dir.log)" >&2
      failed=1
    fi
  done
done
[ ${#runs[@]} -gt 0 ] && python3 "$root/tools/results-table.py" "${runs[@]}" | tee "$out/tables.md"
exit $failed
