"""Checks the evaluations of a self_distill_gc.kd run directory.

usage: check_self_distill_gc.py RUN_DIR

final.json must hold the teacher's evaluation and, for the baseline Plain
and the self-distilled S, one evaluation of the model's output and one per
`using` prediction (each exit alone, the mean of all classifiers), each
with an accuracy in [0, 1]. Prints one line per evaluation, then "ok"; else
what is missing and exits 1.
"""
import json
import os
import sys

PREDICTIONS = [None, "e1", "e2", "e3", "mean(e1,e2,e3,logits)"]


def main():
    with open(os.path.join(sys.argv[1], "final.json")) as f:
        report = json.load(f)
    found = {}
    for evaluation in report.get("evaluations", []):
        key = (evaluation.get("model"), evaluation.get("using"))
        if key in found:
            print("two evaluations of %s using %s" % key)
            return 1
        found[key] = evaluation.get("accuracy")
    wanted = [("T", None)] + [(m, p) for m in ("Plain", "S") for p in PREDICTIONS]
    for key in wanted:
        accuracy = found.get(key)
        if accuracy is None or not 0.0 <= float(accuracy) <= 1.0:
            print("no accuracy for %s using %s" % key)
            return 1
        print("%s %s %.4f" % (key[0], key[1] or "output", float(accuracy)))
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
