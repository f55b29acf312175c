"""Writes a tiny, separable IDX image set for the end-to-end tests.

usage: make_idx.py OUT_DIR [SIZE [CLASSES]]

4 classes of 8x8 grey images by default: class c is bright in quadrant c,
dark elsewhere, with deterministic noise, so a small network separates them
in a few dozen steps. SIZE and CLASSES change the image size and the number
of classes (other than 4: class c is bright in the c-th horizontal band). train: 256 images, t10k: 64. No numpy: the files are
written byte by byte in the IDX layout (big-endian header, uint8 data).
"""
import os
import random
import struct
import sys

SIZE = int(sys.argv[2]) if len(sys.argv) > 2 else 8
CLASSES = int(sys.argv[3]) if len(sys.argv) > 3 else 4


def image(label, rng):
    pixels = []
    for y in range(SIZE):
        for x in range(SIZE):
            if CLASSES == 4:
                region = (y >= SIZE // 2) * 2 + (x >= SIZE // 2)
            else:
                region = y * CLASSES // SIZE
            base = 200 if region == label else 40
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
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    rng = random.Random(1234)
    write(out_dir, "train", 256, rng)
    write(out_dir, "t10k", 64, rng)


if __name__ == "__main__":
    main()
