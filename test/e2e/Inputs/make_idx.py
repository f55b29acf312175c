"""Writes a tiny, separable IDX image set for the end-to-end tests.

usage: make_idx.py OUT_DIR [SIZE [CLASSES [TRAIN TEST]]]

CLASSES classes (default 4) of SIZExSIZE grey images (default 8): class c
is bright in cell c of a grid over the image, dark elsewhere, with
deterministic noise, so a small network separates them in a few dozen
steps. train: TRAIN images (default 256), t10k: TEST (default 64). With 4
classes the cells are the quadrants. No numpy: the files are written byte
by byte in the IDX layout (big-endian header, uint8 data).
"""
import os
import random
import struct
import sys

SIZE = int(sys.argv[2]) if len(sys.argv) > 2 else 8
CLASSES = int(sys.argv[3]) if len(sys.argv) > 3 else 4


def image(label, rng):
    side = 1
    while side * side < CLASSES:
        side += 1
    pixels = []
    for y in range(SIZE):
        for x in range(SIZE):
            cell = (y * side // SIZE) * side + (x * side // SIZE)
            base = 200 if cell == label else 40
            pixels.append(max(0, min(255, base + rng.randint(-30, 30))))
    return bytes(pixels)


def write(out_dir, stem, count, rng):
    labels = [i % CLASSES for i in range(count)]
    rng.shuffle(labels)
    with open(os.path.join(out_dir, stem + "-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, count, SIZE, SIZE))
        for label in labels:
            f.write(image(label, rng))
    with open(os.path.join(out_dir, stem + "-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, count))
        f.write(bytes(labels))


def main():
    global SIZE, CLASSES
    out_dir = sys.argv[1]
    train, test = 256, 64
    if len(sys.argv) not in (2, 3, 4, 6):
        sys.exit(__doc__)
    if len(sys.argv) == 6:
        train, test = int(sys.argv[4]), int(sys.argv[5])
    os.makedirs(out_dir, exist_ok=True)
    rng = random.Random(1234)
    write(out_dir, "train", train, rng)
    write(out_dir, "t10k", test, rng)


if __name__ == "__main__":
    main()
