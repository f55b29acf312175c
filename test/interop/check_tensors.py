"""Checks a safetensors file written by kdrt with the PyPI safetensors
package: the same tensor names, dtypes, shapes and values as `kdrt inspect
FILE --json` reports, through both the numpy and the torch loaders, and the
metadata kdrt wrote.

    check_tensors.py FILE KDRT_JSON [--expect-name NAME]... [--metadata K=V]...

Prints one line per checked tensor; exits 1 with the reason on a mismatch.
"""

import argparse
import json
import sys

import numpy as np
import safetensors
import safetensors.numpy
import safetensors.torch
import torch

DTYPES = {"F32": (np.float32, torch.float32), "I64": (np.int64, torch.int64)}


def fail(message: str) -> None:
    print(f"check_tensors: {message}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("kdrt_json")
    parser.add_argument("--expect-name", action="append", default=[])
    parser.add_argument("--metadata", action="append", default=[])
    args = parser.parse_args()

    with open(args.kdrt_json) as stream:
        reported = json.load(stream)
    arrays = safetensors.numpy.load_file(args.file)
    tensors = safetensors.torch.load_file(args.file)
    with safetensors.safe_open(args.file, framework="numpy") as opened:
        metadata = opened.metadata() or {}

    names = [entry["name"] for entry in reported["tensors"]]
    if sorted(arrays) != sorted(names) or sorted(tensors) != sorted(names):
        fail(f"names differ: kdrt {sorted(names)}, numpy {sorted(arrays)}, torch {sorted(tensors)}")
    for name in args.expect_name:
        if name not in arrays:
            fail(f"no tensor '{name}'")
    if metadata != reported["metadata"]:
        fail(f"metadata differs: kdrt {reported['metadata']}, safetensors {metadata}")
    for pair in args.metadata:
        key, value = pair.split("=", 1)
        if metadata.get(key) != value:
            fail(f"metadata '{key}' is {metadata.get(key)!r}, expected {value!r}")

    for entry in reported["tensors"]:
        name = entry["name"]
        numpy_dtype, torch_dtype = DTYPES[entry["dtype"]]
        array, tensor = arrays[name], tensors[name]
        if array.dtype != numpy_dtype or tensor.dtype != torch_dtype:
            fail(f"{name}: dtype {array.dtype} / {tensor.dtype}, kdrt says {entry['dtype']}")
        if list(array.shape) != entry["shape"] or list(tensor.shape) != entry["shape"]:
            fail(f"{name}: shape {list(array.shape)}, kdrt says {entry['shape']}")
        expected = np.array(entry["values"], dtype=numpy_dtype).reshape(entry["shape"])
        # Bit for bit: both read the same bytes.
        if not np.array_equal(array, expected) or not np.array_equal(tensor.numpy(), expected):
            worst = np.max(np.abs(array.astype(np.float64) - expected))
            fail(f"{name}: values differ from kdrt's by up to {worst}")
        print(f"{name} {entry['dtype']} {entry['shape']} ok")
    print(f"{len(names)} tensors agree")


if __name__ == "__main__":
    main()
