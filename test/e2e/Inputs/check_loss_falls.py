"""Checks that one stage's training loss goes down in a run directory.

usage: check_loss_falls.py RUN_DIR STAGE

Reads the stage's epoch events from metrics.jsonl (each the mean loss of
the epoch's steps, so a single noisy batch neither hides nor fakes
progress) and requires at least two epochs, every epoch's loss finite, and
the last epoch's below the first's. Prints "loss falls" and exits 0, else
prints what failed and exits 1.
"""
import json
import math
import os
import sys


def main():
    run, stage = sys.argv[1], sys.argv[2]
    losses = []
    with open(os.path.join(run, "metrics.jsonl")) as f:
        for line in f:
            event = json.loads(line)
            if event.get("event") == "epoch" and event.get("stage") == stage:
                losses.append(float(event["loss"]))
    if len(losses) < 2:
        print("stage %s logged %d epochs; two are needed to compare"
              % (stage, len(losses)))
        return 1
    if not all(math.isfinite(loss) for loss in losses):
        print("stage %s has a non-finite epoch loss: %s" % (stage, losses))
        return 1
    if not losses[-1] < losses[0]:
        print("loss of %s did not fall: %s" % (stage, losses))
        return 1
    print("loss falls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
