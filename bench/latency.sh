#!/usr/bin/env bash
# Student inference, kdc against ONNX Runtime (and PyTorch eager), the two
# sides alternating round by round: batch-1 latency is a few tens of
# microseconds, and a shared machine's neighbours move it by more than the
# difference, so only rounds taken side by side compare. Prints every round,
# then per side the median and the best of the rounds' medians.
#
# Usage: bench/latency.sh RUN_DIR [--rounds N] [--threads N] [--runs N]
#   RUN_DIR      a `kdc run hinton` directory: its hinton_student.kdx is timed
#                by `kdrt infer --bench`, its hinton_student.safetensors
#                loaded into the PyTorch student that the peers time
#   --rounds N   rounds of (peers, kdc); default 8
#   --threads N  threads on both sides; default: one per core
#   --runs N     timed batch-1 calls per side and round; default 2000
# Uses the kdrt in $KDC_BUILD_DIR (default build/) and bench/.venv.
set -uo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$bench")"
kdrt="${KDC_BUILD_DIR:-$root/build}/bin/kdrt"
python="$bench/.venv/bin/python"

script=bench/latency.sh
. "$bench/common.sh"
rounds=8
threads="$(nproc)"
runs=2000
run_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) [ $# -ge 2 ] || die "--rounds needs a value"; positive "$1" "$2"; rounds="$2"; shift 2 ;;
    --threads) [ $# -ge 2 ] || die "--threads needs a value"; positive "$1" "$2"; threads="$2"; shift 2 ;;
    --runs) [ $# -ge 2 ] || die "--runs needs a value"; positive "$1" "$2"; runs="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) [ -z "$run_dir" ] || die "one run directory only"; run_dir="$1"; shift ;;
  esac
done
[ -n "$run_dir" ] || die "no run directory (see --help)"
plan="$run_dir/hinton_student.kdx"
weights="$run_dir/hinton_student.safetensors"
[ -f "$plan" ] || die "no $plan: give the directory of a finished 'kdc run hinton'"
[ -f "$weights" ] || die "no $weights"
[ -x "$kdrt" ] || die "no $kdrt: run tools/build.sh first"
[ -x "$python" ] || die "no bench/.venv: run bench/setup.sh first"

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
for round in $(seq 1 "$rounds"); do
  "$python" "$bench/pytorch/infer.py" --json --threads "$threads" --runs "$runs" --batches 2 \
    --runtimes onnxruntime,eager --weights "$weights" 2> /dev/null \
    | "$python" -c '
import json, sys
for line in sys.stdin:
    d = json.loads(line)
    print(sys.argv[1], d["runtime"], d["latency_b1_ms"])' "$round" >> "$results" \
    || die "the peers failed in round $round"
  "$kdrt" infer "$plan" --bench --json --threads "$threads" --runs "$runs" --batches 2 \
    | "$python" -c '
import json, sys
print(sys.argv[1], "kdc", json.load(sys.stdin)["latency_b1_ms"])' "$round" >> "$results" \
    || die "kdrt infer --bench failed in round $round"
done
"$python" - "$results" <<'EOF'
import collections, statistics, sys
rounds = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    r, side, ms = line.split()
    rounds[int(r)][side] = float(ms) * 1000
sides = ["kdc", "onnxruntime", "eager"]
print("round " + "".join(f"{s:>14}" for s in sides) + "   (batch-1 latency, median of the round, us)")
for r in sorted(rounds):
    print(f"{r:5d} " + "".join(f"{rounds[r].get(s, float('nan')):14.1f}" for s in sides))
for stat, f in (("median", statistics.median), ("best", min)):
    print(f"{stat:>6}" + "".join(f"{f(x[s] for x in rounds.values()):14.1f}" for s in sides))
wins = sum(x["kdc"] < x["onnxruntime"] for x in rounds.values())
med = statistics.median(x["kdc"] / x["onnxruntime"] for x in rounds.values())
print(f"kdc below ONNX Runtime in {wins} of {len(rounds)} rounds; median ratio kdc/ORT {med:.2f}")
EOF
