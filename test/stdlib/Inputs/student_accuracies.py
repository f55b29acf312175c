"""Prints the test accuracy final.json reports for each named model.

usage: student_accuracies.py FINAL_JSON MODEL...

For each MODEL, in order, prints "MODEL accuracy in [0, 1]" when its last
evaluation in final.json has an accuracy between 0 and 1, else names what
is missing and exits 1. final.json lists the evaluations per stage, or at
the top level.
"""
import json
import sys


def evaluations(node):
    if isinstance(node, dict):
        if "model" in node and "accuracy" in node:
            yield node
        for value in node.values():
            yield from evaluations(value)
    elif isinstance(node, list):
        for value in node:
            yield from evaluations(value)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        final = json.load(f)
    found = {}
    for e in evaluations(final):
        found[e["model"]] = e["accuracy"]
    for model in sys.argv[2:]:
        accuracy = found.get(model)
        if not isinstance(accuracy, (int, float)) or not 0 <= accuracy <= 1:
            print("%s: no accuracy in [0, 1] in %s (%r)" % (model, sys.argv[1], accuracy))
            return 1
        print("%s accuracy in [0, 1]" % model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
