"""Checks that every logged loss of one stage stays below a bound.

usage: check_loss_below.py RUN_DIR STAGE BOUND

Reads the stage's step and epoch events from metrics.jsonl; requires at
least one, each finite and below BOUND. Prints "below BOUND" and exits 0,
else prints the offending losses and exits 1.
"""
import json
import math
import os
import sys


def main():
    run, stage, bound = sys.argv[1], sys.argv[2], float(sys.argv[3])
    losses = []
    with open(os.path.join(run, "metrics.jsonl")) as f:
        for line in f:
            event = json.loads(line)
            if event.get("stage") == stage and "loss" in event:
                losses.append(float(event["loss"]))
    bad = [loss for loss in losses if not (math.isfinite(loss) and loss < bound)]
    if not losses or bad:
        print("stage %s: %d losses logged, not below %g: %s"
              % (stage, len(losses), bound, bad))
        return 1
    print("below %s" % sys.argv[3])
    return 0


if __name__ == "__main__":
    sys.exit(main())
