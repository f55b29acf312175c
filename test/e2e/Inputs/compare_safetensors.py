"""Compares two safetensors files of F32 tensors element by element.

usage: compare_safetensors.py A B TOLERANCE

Prints "same within TOLERANCE" when both hold the same tensor names and
shapes and every pair of elements differs by at most TOLERANCE; otherwise
names the first difference and exits with 1. Plain Python: the header is
little-endian u64 length + JSON, the data raw little-endian floats.
"""
import json
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        blob = f.read()
    (length,) = struct.unpack_from("<Q", blob, 0)
    header = json.loads(blob[8:8 + length])
    data = blob[8 + length:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            sys.exit("%s: tensor %s is %s, not F32" % (path, name, info["dtype"]))
        begin, end = info["data_offsets"]
        count = (end - begin) // 4
        tensors[name] = (info["shape"], struct.unpack_from("<%df" % count, data, begin))
    return tensors


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    a, b = read(sys.argv[1]), read(sys.argv[2])
    tolerance = float(sys.argv[3])
    if sorted(a) != sorted(b):
        print("different tensors: %s vs %s" % (sorted(a), sorted(b)))
        return 1
    worst = 0.0
    for name in sorted(a):
        shape_a, values_a = a[name]
        shape_b, values_b = b[name]
        if shape_a != shape_b:
            print("%s: shape %s vs %s" % (name, shape_a, shape_b))
            return 1
        for index, (x, y) in enumerate(zip(values_a, values_b)):
            if abs(x - y) > tolerance:
                print("%s[%d]: %r vs %r" % (name, index, x, y))
                return 1
            worst = max(worst, abs(x - y))
    print("same within %g (%d tensors)" % (tolerance, len(a)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
