"""Checks that training moved the parameters under a name prefix.

usage: check_params_changed.py BEFORE AFTER PREFIX [EXCEPT,...]

BEFORE and AFTER are safetensors checkpoints of the same stage (e.g. after
one step and after the whole stage). Every F32 tensor whose name starts
with PREFIX (optimizer state such as `.momentum_buffer` excluded, and names
ending in one of the comma-separated EXCEPT suffixes) must be in both, with
one shape, finite, and differ somewhere by more than 1e-6: a parameter no
gradient reaches keeps its initial value in both. Prints "N tensors
changed" and exits 0, else prints what failed and exits 1.
"""
import math
import sys

from compare_safetensors import read

STATE_SUFFIXES = (".exp_avg", ".exp_avg_sq", ".momentum_buffer")


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    before, after = read(sys.argv[1]), read(sys.argv[2])
    prefix = sys.argv[3]
    skipped = STATE_SUFFIXES
    if len(sys.argv) == 5:
        skipped += tuple(sys.argv[4].split(","))
    names = sorted(n for n in after
                   if n.startswith(prefix) and not n.endswith(skipped))
    if not names:
        print("no tensor named %s* in %s" % (prefix, sys.argv[2]))
        return 1
    for name in names:
        if name not in before:
            print("%s is missing from %s" % (name, sys.argv[1]))
            return 1
        (shape_a, a), (shape_b, b) = before[name], after[name]
        if shape_a != shape_b:
            print("%s: shape %s vs %s" % (name, shape_a, shape_b))
            return 1
        if not all(math.isfinite(x) for x in b):
            print("%s is not finite" % name)
            return 1
        if max(abs(x - y) for x, y in zip(a, b)) <= 1e-6:
            print("%s did not change" % name)
            return 1
    print("%d tensors changed" % len(names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
