#!/usr/bin/env python3
"""Side-by-side accuracy table of bench/accuracy.sh's runs.

Reads DIR/kdc-s<N>.jsonl (`kdc run --json`) and DIR/pytorch-s<N>.jsonl
(bench/pytorch/hinton.py --json) and prints, per model (teacher, student from
scratch, distilled student) and side, the test accuracy of each seed and
their mean ± sample standard deviation, then kdc minus PyTorch and whether
distillation beat the scratch student on each side.
"""
import glob
import json
import os
import re
import statistics
import sys

# kdc's model names in hinton.kd -> the PyTorch side's stage names.
MODELS = [("T", "teacher", "teacher"), ("Scratch", "scratch", "student from scratch"),
          ("S", "distill", "distilled student")]


def kdc_accuracies(path: str) -> dict:
    found = {}
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            for evaluation in json.loads(line).get("evaluations", []):
                if evaluation.get("split") in (None, "test") and "using" not in evaluation:
                    found[evaluation["model"]] = 100.0 * evaluation["accuracy"]
    return found


def pytorch_accuracies(path: str) -> dict:
    found = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                found[record["stage"]] = 100.0 * record["accuracy"]
    return found


def seeds_of(directory: str, side: str) -> dict:
    runs = {}
    for path in sorted(glob.glob(os.path.join(directory, f"{side}-s*.jsonl"))):
        seed = int(re.search(r"-s(\d+)\.jsonl$", path).group(1))
        runs[seed] = (kdc_accuracies if side == "kdc" else pytorch_accuracies)(path)
    return runs


def summary(values: list) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def main(argv: list) -> int:
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        print("usage: accuracy_table.py DIR (a bench/accuracy.sh output directory)", file=sys.stderr)
        return 2
    kdc, torch = seeds_of(argv[1], "kdc"), seeds_of(argv[1], "pytorch")
    seeds = sorted(set(kdc) | set(torch))
    if not seeds:
        print(f"accuracy_table.py: no runs in {argv[1]}", file=sys.stderr)
        return 1
    print("| model | side | " + " | ".join(f"seed {s}" for s in seeds) + " | mean ± sd |")
    print("|---|---|" + "---|" * len(seeds) + "---|")
    means = {}
    for kdc_name, torch_name, label in MODELS:
        for side, runs, key in (("kdc", kdc, kdc_name), ("PyTorch", torch, torch_name)):
            values = [runs[s][key] for s in seeds if s in runs and key in runs[s]]
            cells = [f"{runs[s][key]:.2f}" if s in runs and key in runs[s] else "-" for s in seeds]
            means[(label, side)] = statistics.mean(values) if values else None
            print(f"| {label} | {side} | " + " | ".join(cells) + f" | {summary(values)} |")
    print()
    for _, _, label in MODELS:
        a, b = means.get((label, "kdc")), means.get((label, "PyTorch"))
        if a is not None and b is not None:
            print(f"- {label}: kdc - PyTorch = {a - b:+.2f} points (means)")
    for side in ("kdc", "PyTorch"):
        d, s = means.get(("distilled student", side)), means.get(("student from scratch", side))
        if d is not None and s is not None:
            verdict = "beats" if d > s else "does not beat"
            print(f"- {side}: the distilled student {verdict} the scratch student ({d:.2f} vs {s:.2f}, means)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
