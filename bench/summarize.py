#!/usr/bin/env python3
"""Reads the raw output of bench/run.sh's rounds and prints the comparison
table: per metric, the best peer figure (over rounds and peer runtimes),
kdc's best figure and the ratio, oriented so that a ratio above 1 means kdc
is ahead. Writes every raw line, the machine and the table to one JSON file.

Files it reads in --work (NAME = r<round>.<side>.<what>):
  NAME.jsonl        JSON objects, one per line (or one object with "stages")
  NAME.unavailable  why a kdc-side command could not run
  peak.json         bench/peak/fma_peak's output
"""

import argparse
import glob
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import flops  # noqa: E402

HIGHER, LOWER = "higher", "lower"

# kdc stage names -> the benchmark's stage names. The teacher trains in its
# own stage, named after the instance or its role depending on the compiler.
KDC_STAGE_ALIASES = {"T": "teacher", "T_train": "teacher", "teacher": "teacher", "teacher_T": "teacher",
                     "T.train": "teacher",
                     "scratch": "scratch", "distill": "distill"}


def read_lines(path: str) -> list[dict]:
    """JSON objects from a file of JSON lines, or from one JSON document
    (kdc's run report with a "stages" list is flattened into stage lines)."""
    with open(path, encoding="utf-8") as stream:
        text = stream.read()
    objects = []
    try:
        objects = [json.loads(text)]
    except json.JSONDecodeError:
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    objects.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
    lines = []
    for item in objects:
        if isinstance(item, dict) and isinstance(item.get("stages"), list):
            lines.extend(stage for stage in item["stages"] if isinstance(stage, dict))
        elif isinstance(item, dict):
            lines.append(item)
    return lines


def stage_name(line: dict, cached_run: bool) -> str:
    name = str(line.get("stage", line.get("name", "")))
    name = KDC_STAGE_ALIASES.get(name, name)
    if cached_run and name == "distill":
        return "distill_cached"
    return name


def collect(work: str) -> dict:
    """{(side, runtime): {metric: [values over rounds]}} and the reasons
    the kdc side was unavailable."""
    figures: dict = {}
    unavailable: dict = {}
    raw: dict = {}

    def add(side: str, metric: str, value):
        if isinstance(value, (int, float)) and value == value and value > 0:
            figures.setdefault(side, {}).setdefault(metric, []).append(float(value))

    for path in sorted(glob.glob(os.path.join(work, "r*.*.unavailable"))):
        _, _, what = os.path.basename(path)[:-len(".unavailable")].split(".", 2)
        with open(path, encoding="utf-8") as stream:
            unavailable.setdefault(what, stream.read().strip())

    for path in sorted(glob.glob(os.path.join(work, "r*.*.jsonl"))):
        base = os.path.basename(path)[:-len(".jsonl")]
        _, side, what = base.split(".", 2)
        lines = read_lines(path)
        raw[base] = lines
        if what in ("train", "cached"):
            peak_rss = 0
            for line in lines:
                stage = stage_name(line, what == "cached")
                # A torch.compile'd run compiles during its first step; kdc
                # compiles before it runs, so that step is left out.
                rate = line.get("steady_images_per_s" if line.get("compiled") else "images_per_s") or 0
                if stage in ("teacher", "distill", "distill_cached", "scratch"):
                    add(side, f"{stage}.images_per_s", rate)
                    add(side, f"{stage}.gflops", flops.achieved_gflops(stage, rate))
                if stage == "distill":
                    add(side, "distill.accuracy", line.get("accuracy"))
                # The recipe's own stages only: the peer's extra cached stage
                # has no counterpart in kdc's run of the recipe.
                if stage != "distill_cached" or what == "cached":
                    peak_rss = max(peak_rss, line.get("peak_rss_bytes") or 0)
            add(side, f"{what}.peak_rss_mib", peak_rss / 2**20)
        elif what == "infer":
            for line in lines:
                runtime = line.get("runtime", "kdrt")
                key = side if side == "kdc" else f"{side}:{runtime}"
                add(key, "infer.latency_b1_ms", line.get("latency_b1_ms"))
                add(key, "infer.throughput_b256", line.get("throughput_b256_images_per_s"))
                if runtime == "compile":
                    add(key, "compile_seconds", line.get("first_call_seconds"))
        elif what == "compile":
            for line in lines:
                add(side, "compile_seconds", line.get("seconds"))
    return {"figures": figures, "unavailable": unavailable, "raw": raw}


# (metric, label, better, unit[, the peers' metric when it differs])
ROWS = [
    ("distill.images_per_s", "distillation, teacher forward each step", HIGHER, "img/s"),
    ("distill_cached.images_per_s", "distillation, cached soft targets", HIGHER, "img/s"),
    # What a Python user runs today (the teacher on every batch) against kdc's
    # cached stage: the comparison of the cached-distillation target.
    ("distill_cached.images_per_s", "kdc cached vs peer teacher-each-step distillation", HIGHER, "img/s",
     "distill.images_per_s"),
    ("teacher.images_per_s", "teacher training", HIGHER, "img/s"),
    ("scratch.images_per_s", "student training from scratch", HIGHER, "img/s"),
    ("infer.latency_b1_ms", "student inference latency, batch 1 (median)", LOWER, "ms"),
    ("infer.throughput_b256", "student inference throughput, batch 256", HIGHER, "img/s"),
    ("train.peak_rss_mib", "peak memory, whole recipe", LOWER, "MiB"),
    ("compile_seconds", "compile time (kdc compile; peer: torch.compile first call)", LOWER, "s"),
    ("teacher.gflops", "achieved, teacher training", HIGHER, "GFLOP/s"),
    ("distill.gflops", "achieved, distillation", HIGHER, "GFLOP/s"),
    ("distill_cached.gflops", "achieved, cached distillation", HIGHER, "GFLOP/s"),
    ("distill.accuracy", "distilled student accuracy (t10k)", HIGHER, ""),
]

# Which kdc command each row needs, to say why a kdc figure is missing.
ROW_SOURCE = {"distill_cached": "cached", "infer": "infer", "compile_seconds": "compile"}


def best(values: list[float], better: str) -> float:
    return max(values) if better == HIGHER else min(values)


def summarize(collected: dict, peak_gflops: float) -> list[dict]:
    figures = collected["figures"]
    rows = []
    for metric, label, better, unit, *peer_metric in ROWS:
        peer_metric = peer_metric[0] if peer_metric else metric
        peer_value, peer_name = None, None
        for side, metrics in figures.items():
            if side == "kdc" or peer_metric not in metrics:
                continue
            value = best(metrics[peer_metric], better)
            if peer_value is None or best([peer_value, value], better) == value:
                peer_value, peer_name = value, side
        kdc_values = figures.get("kdc", {}).get(metric)
        kdc_value = best(kdc_values, better) if kdc_values else None
        ratio = None
        if peer_value and kdc_value:
            ratio = kdc_value / peer_value if better == HIGHER else peer_value / kdc_value
        source = ROW_SOURCE.get(metric.split(".")[0], ROW_SOURCE.get(metric, "train"))
        rows.append({"metric": metric, "label": label, "unit": unit, "better": better,
                     "peer": peer_value, "peer_runtime": peer_name, "kdc": kdc_value, "ratio": ratio,
                     "peer_percent_of_peak": _percent(metric, peer_value, peak_gflops),
                     "kdc_percent_of_peak": _percent(metric, kdc_value, peak_gflops),
                     "kdc_missing": None if kdc_value else collected["unavailable"].get(source)})
    return rows


def _percent(metric: str, value, peak_gflops: float):
    if metric.endswith(".gflops") and value and peak_gflops:
        return 100.0 * value / peak_gflops
    return None


def _format(value, unit: str, percent) -> str:
    if value is None:
        return "-"
    text = f"{value:.4f}" if unit == "" else f"{value:.3f}" if value < 10 else f"{value:,.0f}" \
        if value >= 1000 else f"{value:.1f}"
    return f"{text} ({percent:.1f}%)" if percent is not None else text


def print_table(rows: list[dict], peak: dict) -> None:
    if peak:
        print(f"machine FP32 peak: {peak['gflops']:.1f} GFLOP/s ({peak['isa']}, {peak['threads']} threads)")
    header = ("metric", "unit", "best peer", "peer runtime", "kdc", "kdc/peer")
    table = [header]
    for row in rows:
        ratio = f"{row['ratio']:.2f}x" if row["ratio"] else "-"
        table.append((row["label"], row["unit"], _format(row["peer"], row["unit"], row["peer_percent_of_peak"]),
                      row["peer_runtime"] or "-", _format(row["kdc"], row["unit"], row["kdc_percent_of_peak"]),
                      ratio))
    widths = [max(len(str(line[i])) for line in table) for i in range(len(header))]
    for index, line in enumerate(table):
        print("  ".join(str(cell).ljust(width) if i == 0 else str(cell).rjust(width)
                        for i, (cell, width) in enumerate(zip(line, widths))))
        if index == 0:
            print("  ".join("-" * width for width in widths))
    print("ratio: above 1 means kdc is ahead (faster, or less memory/time); "
          "(n%) is the share of the measured peak")
    missing = {}
    for row in rows:
        if row["kdc_missing"]:
            missing.setdefault(row["kdc_missing"], []).append(row["label"])
    for reason in missing:
        print(f"kdc side not available: {reason}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", required=True, help="directory of the rounds' raw output")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--rounds", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--setting", default="")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.work):
        print(f"summarize.py: error: no directory {args.work}", file=sys.stderr)
        return 1

    peak = {}
    peak_path = os.path.join(args.work, "peak.json")
    if os.path.exists(peak_path):
        lines = read_lines(peak_path)
        peak = lines[0] if lines else {}
    collected = collect(args.work)
    rows = summarize(collected, peak.get("gflops", 0))
    print_table(rows, peak)

    result = {
        "setting": args.setting, "rounds": args.rounds, "threads": args.threads,
        "machine": {"cores": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "peak": peak},
        "flops_per_image": flops.flops_per_image(),
        "table": rows,
        "kdc_unavailable": collected["unavailable"],
        "raw": collected["raw"],
    }
    with open(args.out, "w", encoding="utf-8") as stream:
        json.dump(result, stream, indent=1)
    print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
