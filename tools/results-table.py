#!/usr/bin/env python3
"""Markdown tables of `kdc run` results, for docs/results.md.

usage: tools/results-table.py RUN_DIR [RUN_DIR ...]

Reads each run directory's final.json and manifest.json and prints one table
per recipe: a row per evaluation (model, and the prediction it used when the
recipe evaluates with `using`), with the test accuracy and the macro
sensitivity, specificity and F1 in percent. Runs of the same recipe with
different seeds are pooled: each cell is the mean over seeds, followed by
"± s" (the sample standard deviation) when there are several. Parameter and
FLOP counts come from the manifest's "models" (FLOPs = 2 x multiply-adds of
one forward pass, from the compiler's shapes). Loss evaluations
(`evaluate LOSS on SPLIT`) are listed under the table.
"""
import json
import os
import statistics
import sys
from collections import OrderedDict


def load(run):
    with open(os.path.join(run, "final.json")) as f:
        final = json.load(f)
    manifest = {}
    path = os.path.join(run, "manifest.json")
    if os.path.exists(path):
        with open(path) as f:
            manifest = json.load(f)
    return final, manifest


def cell(values, scale=100.0):
    values = [v * scale for v in values if v is not None]
    if not values:
        return ""
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.2f}"
    return f"{mean:.2f} ± {statistics.stdev(values):.2f}"


def count(n):
    if n is None:
        return ""
    if n >= 1e9:
        return f"{n / 1e9:.2f} G"
    if n >= 1e6:
        return f"{n / 1e6:.2f} M"
    if n >= 1e3:
        return f"{n / 1e3:.1f} k"
    return str(n)


def main(runs):
    if not runs:
        sys.exit(__doc__)
    recipes = OrderedDict()
    for run in runs:
        final, manifest = load(run)
        recipe = manifest.get("recipe") or os.path.basename(os.path.normpath(run))
        entry = recipes.setdefault(recipe, {"seeds": [], "rows": OrderedDict(), "models": {}, "stages": OrderedDict()})
        for stage in final.get("stages", []):
            entry["stages"].setdefault(stage["name"], (stage.get("steps"), stage.get("images")))
        entry["seeds"].append(final.get("seed", manifest.get("seed")))
        entry["models"].update(manifest.get("models", {}))
        for ev in final.get("evaluations", []):
            if "loss" in ev:
                entry.setdefault("losses", OrderedDict()).setdefault((ev["loss"], ev.get("split", "")), []).append(
                    ev.get("value"))
                continue
            key = (ev["model"], ev.get("using", ""), ev.get("split", ""))
            row = entry["rows"].setdefault(key, {m: [] for m in
                                                 ("accuracy", "macro_sensitivity", "macro_specificity", "macro_f1")})
            for metric in row:
                row[metric].append(ev.get(metric))
    for recipe, entry in recipes.items():
        seeds = ", ".join(str(s) for s in entry["seeds"])
        print(f"#### {recipe} (seeds {seeds})\n")
        stages = ", ".join(f"{name} {steps} steps / {images} images" for name, (steps, images) in entry["stages"].items())
        print(f"Stages: {stages}.\n")
        print("| model | prediction | params | FLOPs | accuracy % | sensitivity % | specificity % | F1 % |")
        print("|---|---|---|---|---|---|---|---|")
        for (model, using, _split), row in entry["rows"].items():
            info = entry["models"].get(model, {})
            print(f"| {model} | {using or 'output'} | {count(info.get('parameters'))} | {count(info.get('flops'))} | "
                  f"{cell(row['accuracy'])} | {cell(row['macro_sensitivity'])} | "
                  f"{cell(row['macro_specificity'])} | {cell(row['macro_f1'])} |")
        print()
        for (loss, split), values in entry.get("losses", {}).items():
            print(f"- `{loss}` on {split}: {cell(values, scale=1.0)}")
        if entry.get("losses"):
            print()


if __name__ == "__main__":
    main(sys.argv[1:])
