"""Checks that two runs of one stage logged the same losses but for a
constant offset.

usage: check_loss_offset.py RUN_A RUN_B STAGE OFFSET

Reads the stage's step and epoch events (the losses logged) from each
run's metrics.jsonl and requires as many in both, and every loss of B to be
the loss of A plus OFFSET (to 1e-4). Prints "offset OFFSET over N losses"
and exits 0, else what differs and 1.
"""
import json
import os
import sys


def losses(run, stage):
    found = []
    with open(os.path.join(run, "metrics.jsonl")) as f:
        for line in f:
            event = json.loads(line)
            if event.get("event") in ("step", "epoch") and event.get("stage") == stage:
                found.append(float(event["loss"]))
    return found


def main():
    a, b = losses(sys.argv[1], sys.argv[3]), losses(sys.argv[2], sys.argv[3])
    offset = float(sys.argv[4])
    if not a or len(a) != len(b):
        print("loss counts differ or are zero: %d and %d" % (len(a), len(b)))
        return 1
    for index, (x, y) in enumerate(zip(a, b)):
        if abs(y - x - offset) > 1e-4:
            print("loss %d: %r and %r differ by %r, not %r" % (index, x, y, y - x, offset))
            return 1
    print("offset %g over %d losses" % (offset, len(a)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
