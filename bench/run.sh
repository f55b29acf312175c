#!/usr/bin/env bash
# The kdc-vs-PyTorch benchmark of the Hinton recipe (docs/bench.md).
#
# Builds kdc and the FMA peak probe, measures the machine's FP32 peak, then
# runs the PyTorch side and the kdc side ALTERNATELY for N rounds (so that a
# slow spell of a shared machine hurts both sides alike), and prints, per
# metric, the best peer figure, kdc's figure and their ratio. Everything is
# also written to bench/results/<date>.json.
#
# Usage: bench/run.sh [--rounds N] [--max-steps N] [--full] [--threads N]
#                     [--peer-compile] [--skip-build]
#   --rounds N      rounds of (pytorch, kdc); default 3
#   --max-steps N   optimizer steps per stage in the short setting; default 20
#   --full          the recipe's full settings: every epoch, the whole test set
#   --threads N     threads on both sides; default: one per core
#   --peer-compile  also train through torch.compile (slow to compile)
#   --skip-build    use the kdc already built in $KDC_BUILD_DIR (default build/)
#
# Run bench/setup.sh once first.
set -uo pipefail

bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$bench")"
build="${KDC_BUILD_DIR:-$root/build}"
python="$bench/.venv/bin/python"
recipe="$root/stdlib/recipes/hinton.kd"

rounds=3
max_steps=20
full=0
threads="$(nproc)"
peer_compile=0
skip_build=0

script=bench/run.sh
. "$bench/common.sh"

while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) [ $# -ge 2 ] || die "--rounds needs a value"; positive "$1" "$2"; rounds="$2"; shift 2 ;;
    --max-steps) [ $# -ge 2 ] || die "--max-steps needs a value"; positive "$1" "$2"; max_steps="$2"; shift 2 ;;
    --threads) [ $# -ge 2 ] || die "--threads needs a value"; positive "$1" "$2"; threads="$2"; shift 2 ;;
    --full) full=1; shift ;;
    --peer-compile) peer_compile=1; shift ;;
    --skip-build) skip_build=1; shift ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

[ -x "$python" ] || die "no bench/.venv: run bench/setup.sh first"
[ -f "$recipe" ] || die "the recipe $recipe is missing"

stamp="$(date -u +%Y-%m-%dT%H-%M-%SZ)"
work="$bench/results/$stamp.d"
mkdir -p "$work"
echo "bench: working in $work"

# Settings of each side. The short setting caps the steps of every stage; the
# PyTorch side also trims the training split (only the cached stage's one-off
# teacher pass depends on its size, and it is timed apart) and the test set.
if [ "$full" = 1 ]; then
  peer_train_flags=()
  kdc_step_flags=()
  infer_flags=(--runs 1000 --batches 20)
else
  peer_train_flags=(--max-steps "$max_steps" --train-samples 12800 --eval-samples 2000)
  kdc_step_flags=(--max-steps "$max_steps")
  infer_flags=(--runs 200 --batches 5)
fi

# --- The machine's FP32 peak ------------------------------------------------
if g++ -O2 -march=native -std=c++17 -pthread "$bench/peak/fma_peak.cpp" -o "$work/fma_peak" \
     2> "$work/fma_peak.build.log"; then
  "$work/fma_peak" --threads "$threads" --seconds 1 --trials 3 > "$work/peak.json" \
    || echo "bench: the FMA peak probe failed" >&2
else
  echo "bench: could not build bench/peak/fma_peak.cpp (see $work/fma_peak.build.log)" >&2
fi

# --- kdc ---------------------------------------------------------------------
kdc_reason=""
if [ "$skip_build" = 0 ]; then
  echo "bench: building kdc (log: $work/kdc.build.log)"
  if ! KDC_BUILD_DIR="$build" KDC_JOBS="${KDC_JOBS:-2}" "$root/tools/build.sh" > "$work/kdc.build.log" 2>&1; then
    kdc_reason="tools/build.sh failed (see $work/kdc.build.log)"
  fi
fi
kdc="$build/bin/kdc"
kdrt="$build/bin/kdrt"
if [ -z "$kdc_reason" ] && [ ! -x "$kdc" ]; then
  kdc_reason="no $kdc"
fi

# The cached variant: kdc caches the teacher's outputs only when the teacher's
# input has no random augmentation, so this copy of the recipe drops it.
sed -E 's/[[:space:]]+augment[[:space:]]*\[[^]]*\]//' "$recipe" > "$work/hinton_cached.kd"

# --- The PyTorch side's own checks ---------------------------------------------
if ! "$python" "$bench/pytorch/selftest.py" > "$work/selftest.log" 2>&1; then
  tail -20 "$work/selftest.log" >&2
  die "the PyTorch side's self-test failed"
fi

# Runs a kdc-side command; on failure records why instead of its results.
#   kdc_step NAME COMMAND...   (stdout to $work/NAME.jsonl)
kdc_step() {
  local name="$1"
  shift
  if [ -n "$kdc_reason" ]; then
    echo "$kdc_reason" > "$work/$name.unavailable"
    return 1
  fi
  if ! "$@" > "$work/$name.jsonl" 2> "$work/$name.err"; then
    local why
    why="$(grep -v '^[[:space:]]*$' "$work/$name.err" | tail -1)"
    echo "'$(basename "$1") $2' failed: ${why:-no message}" > "$work/$name.unavailable"
    rm -f "$work/$name.jsonl"
    return 1
  fi
}

run_peer() {
  local round="$1"
  echo "bench: round $round: pytorch"
  "$python" "$bench/pytorch/hinton.py" --json --threads "$threads" --seed "$round" \
    --out "$work/r$round.pytorch.run" "${peer_train_flags[@]}" \
    > "$work/r$round.pytorch.train.jsonl" 2> "$work/r$round.pytorch.train.err" \
    || echo "bench: the PyTorch recipe failed in round $round (see $work/r$round.pytorch.train.err)" >&2
  if [ "$peer_compile" = 1 ]; then
    "$python" "$bench/pytorch/hinton.py" --json --compile --threads "$threads" --seed "$round" \
      --out "$work/r$round.pytorch-compile.run" "${peer_train_flags[@]}" \
      > "$work/r$round.pytorch-compile.train.jsonl" 2> "$work/r$round.pytorch-compile.train.err" \
      || echo "bench: the torch.compile recipe failed in round $round" >&2
  fi
  "$python" "$bench/pytorch/infer.py" --json --threads "$threads" "${infer_flags[@]}" \
    > "$work/r$round.pytorch.infer.jsonl" 2> "$work/r$round.pytorch.infer.err" \
    || echo "bench: PyTorch inference timing failed in round $round" >&2
}

run_kdc() {
  local round="$1"
  echo "bench: round $round: kdc"
  local start_ns elapsed_ns
  start_ns="$(date +%s%N)"
  if kdc_step "r$round.kdc.compile" "$kdc" compile "$recipe" -o "$work/r$round.hinton.kdx"; then
    elapsed_ns=$(( $(date +%s%N) - start_ns ))
    awk -v ns="$elapsed_ns" 'BEGIN { printf "{\"stage\": \"compile\", \"seconds\": %.6f}\n", ns / 1e9 }' \
      > "$work/r$round.kdc.compile.jsonl"
  fi
  kdc_step "r$round.kdc.train" "$kdc" run "$recipe" --json --threads "$threads" --seed "$round" \
    --out "$work/r$round.kdc.run" "${kdc_step_flags[@]}"
  kdc_step "r$round.kdc.cached" "$kdc" run "$work/hinton_cached.kd" --json --threads "$threads" \
    --seed "$round" --out "$work/r$round.kdc-cached.run" "${kdc_step_flags[@]}"
  # Inference timing needs a timing mode of `kdrt infer` (docs/bench.md).
  if [ -z "$kdc_reason" ] && ! { [ -x "$kdrt" ] && "$kdrt" --help 2>&1 | grep -q -- '--bench'; }; then
    echo "kdrt infer has no --bench timing mode yet" > "$work/r$round.kdc.infer.unavailable"
  else
    # The recipe's inference export: the student alone, batch norms folded.
    kdc_step "r$round.kdc.infer" "$kdrt" infer "$work/r$round.kdc.run/hinton_student.kdx" --bench --json \
      --threads "$threads" "${infer_flags[@]}"
  fi
}

for round in $(seq 1 "$rounds"); do
  run_peer "$round"
  run_kdc "$round"
done

"$python" "$bench/summarize.py" --work "$work" --out "$bench/results/$stamp.json" \
  --rounds "$rounds" --threads "$threads" --setting "$([ "$full" = 1 ] && echo full || echo "short (max steps $max_steps)")"
