"""Compares a run's one-cycle rate and cycled momentum with PyTorch's.

usage: onecycle_momentum.py RUN_DIR STAGE sgd|adam MAX_LR BASE_MOMENTUM MAX_MOMENTUM

Reads the stage's step count from final.json and its logged events from
metrics.jsonl (each with the `lr` and `momentum` of the step it ends), and
replays torch.optim.lr_scheduler.OneCycleLR(cycle_momentum=True) with the
same settings over as many steps on a torch optimizer of that kind: SGD's
`momentum`, Adam's first beta. Prints "N steps agree" when every logged
step matches, else the first difference, and exits 1.
"""
import json
import math
import os
import sys

import torch


def torch_sequence(kind, total, max_lr, base, peak):
    parameter = torch.nn.Parameter(torch.zeros(1))
    if kind == "sgd":
        optimizer = torch.optim.SGD([parameter], lr=max_lr, momentum=peak)
    else:
        optimizer = torch.optim.Adam([parameter], lr=max_lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=max_lr, total_steps=total, cycle_momentum=True,
        base_momentum=base, max_momentum=peak)
    sequence = []
    for _ in range(total):
        group = optimizer.param_groups[0]
        sequence.append((group["lr"],
                         group["momentum"] if kind == "sgd" else group["betas"][0]))
        optimizer.step()
        scheduler.step()
    return sequence


def main():
    run, stage, kind = sys.argv[1], sys.argv[2], sys.argv[3]
    max_lr, base, peak = (float(v) for v in sys.argv[4:7])
    with open(os.path.join(run, "final.json")) as f:
        total = next(s["steps"] for s in json.load(f)["stages"] if s["name"] == stage)
    expected = torch_sequence(kind, total, max_lr, base, peak)
    logged = []
    with open(os.path.join(run, "metrics.jsonl")) as f:
        for line in f:
            event = json.loads(line)
            if event.get("stage") == stage and event.get("event") in ("step", "epoch"):
                logged.append(event)
    if len(logged) < 3:
        print("stage %s logged %d steps; three are needed" % (stage, len(logged)))
        return 1
    for event in logged:
        if "momentum" not in event:
            print("step %d of %s logged no momentum" % (event["step"], stage))
            return 1
        lr, momentum = expected[event["step"] - 1]
        if not (math.isclose(event["lr"], lr, rel_tol=1e-9) and
                math.isclose(event["momentum"], momentum, rel_tol=1e-9)):
            print("step %d of %s: kdc lr %r momentum %r, torch lr %r momentum %r"
                  % (event["step"], stage, event["lr"], event["momentum"], lr, momentum))
            return 1
    if len({event["momentum"] for event in logged}) < 3:
        print("the momentum of %s barely moves: %r" % (stage, [e["momentum"] for e in logged]))
        return 1
    print("%d steps agree" % len(logged))
    return 0


if __name__ == "__main__":
    sys.exit(main())
