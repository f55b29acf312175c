"""Checks the accuracy weights of an ensemble in a run directory.

usage: check_ensemble_weights.py RUN_DIR STAGE ENSEMBLE

Reads the ensemble_weights event of STAGE from metrics.jsonl and requires
one entry per member with an accuracy in [0, 1], weights proportional to
the accuracies that sum to 1, and the same weights in the stage's
checkpoint as the state tensor ENSEMBLE/weights (what the stage's
ensemble_combine read). Prints "weights ok" and exits 0, else prints what
failed and exits 1.
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_safetensors import read  # noqa: E402


def main():
    run, stage, ensemble = sys.argv[1], sys.argv[2], sys.argv[3]
    events = []
    with open(os.path.join(run, "metrics.jsonl")) as f:
        for line in f:
            event = json.loads(line)
            if (event.get("event") == "ensemble_weights" and event.get("stage") == stage
                    and event.get("ensemble") == ensemble):
                events.append(event)
    if len(events) != 1:
        print("stage %s logged %d weightings of %s, expected 1" % (stage, len(events), ensemble))
        return 1
    members = events[0]["members"]
    accuracies = [m["accuracy"] for m in members]
    weights = [m["weight"] for m in members]
    if len(members) < 2 or not all(0 <= a <= 1 for a in accuracies):
        print("bad members: %s" % members)
        return 1
    if abs(sum(weights) - 1) > 1e-9:
        print("weights %s do not sum to 1" % weights)
        return 1
    total = sum(accuracies)
    for a, w in zip(accuracies, weights):
        expected = a / total if total > 0 else 1 / len(members)
        if not math.isclose(w, expected, rel_tol=1e-9, abs_tol=1e-12):
            print("weight %s is not accuracy %s / %s" % (w, a, total))
            return 1
    checkpoint = read(os.path.join(run, "checkpoints", stage + ".safetensors"))
    name = ensemble + "/weights"
    if name not in checkpoint:
        print("checkpoint of %s has no %s" % (stage, name))
        return 1
    shape, stored = checkpoint[name]
    if shape != [len(members)] or any(abs(s - w) > 1e-6 for s, w in zip(stored, weights)):
        print("%s in the checkpoint is %s %s, logged %s" % (name, shape, list(stored), weights))
        return 1
    print("weights ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
