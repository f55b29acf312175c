"""Compares the logits of two `kdrt infer --json` outputs.

usage: compare_logits.py A.json B.json TOLERANCE

Each file holds one JSON object per line and image. Prints "N images agree
within TOLERANCE" when both list the same images with the same class and
every logit pair satisfies |a - b| <= TOLERANCE * max(|a|, |b|, 1);
otherwise names the first difference and exits with 1.
"""
import json
import sys


def read(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    a, b, tolerance = read(sys.argv[1]), read(sys.argv[2]), float(sys.argv[3])
    if len(a) != len(b) or not a:
        sys.exit("%d images against %d" % (len(a), len(b)))
    for x, y in zip(a, b):
        if x["image"] != y["image"] or len(x["logits"]) != len(y["logits"]):
            sys.exit("%s and %s differ in shape" % (x["image"], y["image"]))
        for k, (p, q) in enumerate(zip(x["logits"], y["logits"])):
            if abs(p - q) > tolerance * max(abs(p), abs(q), 1.0):
                sys.exit("%s: logit %d is %r against %r" % (x["image"], k, p, q))
        if x["index"] != y["index"]:
            sys.exit("%s: class %r against %r" % (x["image"], x["index"], y["index"]))
    print("%d images agree within %g" % (len(a), tolerance))


if __name__ == "__main__":
    main()
