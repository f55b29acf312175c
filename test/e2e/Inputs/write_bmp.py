"""Writes 8x8 grey test images as 24-bit BMP files, one per class of
make_idx.py (bright in quadrant c) plus one of noise.

usage: write_bmp.py OUT_DIR

Plain Python: a BMP is a 14-byte file header, a 40-byte info header and
bottom-up rows of BGR pixels padded to 4 bytes.
"""
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_idx import SIZE, image  # noqa: E402


def write_bmp(path, pixels):
    row_bytes = (SIZE * 3 + 3) // 4 * 4
    data = bytearray()
    for y in reversed(range(SIZE)):
        row = bytearray()
        for x in range(SIZE):
            v = pixels[y * SIZE + x]
            row += bytes((v, v, v))
        row += bytes(row_bytes - len(row))
        data += row
    header = struct.pack("<2sIHHI", b"BM", 54 + len(data), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, SIZE, SIZE, 1, 24, 0, len(data),
                       2835, 2835, 0, 0)
    with open(path, "wb") as f:
        f.write(header + info + data)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(17)
    for label in range(4):
        write_bmp(os.path.join(out, "q%d.bmp" % label), image(label, rng))
    write_bmp(os.path.join(out, "noise.bmp"),
              [rng.randint(0, 255) for _ in range(SIZE * SIZE)])


if __name__ == "__main__":
    main()
