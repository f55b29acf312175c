"""Loads a Student export written by kdrt into bench/pytorch/models.py's
Student and checks that PyTorch's forward of the probe image gives the
logits `kdrt infer --json` printed for it.

    student_forward.py write-probe PNG
    student_forward.py compare BENCH_PYTORCH_DIR WEIGHTS PNG KDRT_JSON MEAN STD

The probe is a fixed 28x28 grayscale pattern written as a PNG with the
standard library only, so both sides read the very same pixels.
"""

import json
import struct
import sys
import zlib

import numpy as np
import torch

SIZE = 28
TOLERANCE = 1e-4


def probe_pixels() -> np.ndarray:
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    return ((x * 7 + y * 13 + (x * y) % 17) % 256).astype(np.uint8)


def write_png(path: str, pixels: np.ndarray) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    height, width = pixels.shape
    rows = b"".join(b"\x00" + pixels[r].tobytes() for r in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit gray
    with open(path, "wb") as stream:
        stream.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
                     chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def compare(bench_dir: str, weights: str, png: str, kdrt_json: str, mean: float, std: float) -> None:
    sys.path.insert(0, bench_dir)
    import models

    model = models.build_student()
    not_loaded = models.load_kdc_safetensors(model, weights)
    if not_loaded:
        sys.exit(f"student_forward: the export lacks {not_loaded}")
    model.eval()
    with open(kdrt_json) as stream:
        reported = json.loads(stream.readline())
    if reported["image"] != png:
        sys.exit(f"student_forward: kdrt classified {reported['image']}, not {png}")
    images = (probe_pixels().astype(np.float32) / 255.0 - mean) / std
    with torch.no_grad():
        logits = model(torch.from_numpy(images).reshape(1, 1, SIZE, SIZE))[0].numpy()
    kdrt_logits = np.array(reported["logits"], dtype=np.float64)
    difference = np.max(np.abs(logits - kdrt_logits) / np.maximum(1.0, np.abs(kdrt_logits)))
    print(f"pytorch argmax {int(np.argmax(logits))}, kdrt {reported['index']}")
    print(f"max relative difference {difference:.2e}")
    if not difference <= TOLERANCE:
        sys.exit(f"student_forward: PyTorch {logits.tolist()} vs kdrt {kdrt_logits.tolist()}")
    # A different input must change the logits, or the check proves nothing.
    with torch.no_grad():
        other = model(torch.zeros(1, 1, SIZE, SIZE))[0].numpy()
    if np.allclose(other, logits, atol=1e-3):
        sys.exit("student_forward: the logits do not depend on the input")
    print("logits agree")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "write-probe":
        write_png(sys.argv[2], probe_pixels())
    elif len(sys.argv) == 8 and sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6]), float(sys.argv[7]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
