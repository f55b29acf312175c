"""Fashion-MNIST as the Hinton recipe declares it, read from IDX files.

The recipe's data block, in PyTorch: pixels scaled to [0, 1], random 2-pixel
shifted crops with zero padding and horizontal flips on the training split
(applied in [0, 1] space, before normalisation, as kdc's data pipeline and
torchvision do), then normalisation with mean 0.2860 and std 0.3530. The
splits are the recipe's: train = the first 54,000 images of "train",
val = the last 6,000, test = "t10k".

The IDX files are read with numpy and gzip: nothing is downloaded.
"""

import gzip
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
MEAN = 0.2860
STD = 0.3530
TRAIN_SAMPLES = 54_000
CROP_PADDING = 2

# IDX type codes (the third byte of the magic) for the types MNIST uses.
_IDX_UNSIGNED_BYTE = 0x08


def _open(path: str):
    for candidate in (path, path + ".gz"):
        if os.path.exists(candidate):
            return gzip.open(candidate, "rb") if candidate.endswith(".gz") else open(candidate, "rb")
    raise FileNotFoundError(f"no IDX file {path}[.gz]")


def read_idx(path: str) -> np.ndarray:
    """An IDX file (raw or gzip) as a uint8 array of its declared shape."""
    with _open(path) as stream:
        header = stream.read(4)
        if len(header) != 4 or header[0] != 0 or header[1] != 0:
            raise ValueError(f"{path}: not an IDX file (bad magic)")
        if header[2] != _IDX_UNSIGNED_BYTE:
            raise ValueError(f"{path}: IDX type 0x{header[2]:02x} is not unsigned bytes")
        rank = header[3]
        dims = struct.unpack(f">{rank}I", stream.read(4 * rank))
        data = np.frombuffer(stream.read(), dtype=np.uint8)
    expected = int(np.prod(dims)) if dims else 0
    if data.size != expected:
        raise ValueError(f"{path}: {data.size} bytes of data, the header declares {expected}")
    return data.reshape(dims)


def load_split(directory: str, stem: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Images as float [N, 1, 28, 28] in [0, 1] and labels as int64 [N]."""
    images = read_idx(os.path.join(directory, f"{stem}-images-idx3-ubyte"))
    labels = read_idx(os.path.join(directory, f"{stem}-labels-idx1-ubyte"))
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"{directory}/{stem}: images {images.shape} and labels {labels.shape} do not pair up")
    pixels = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    return pixels, torch.from_numpy(labels.astype(np.int64))


class FashionMnist:
    """The recipe's splits, held in memory (60k + 10k images: 220 MB)."""

    def __init__(self, directory: str = DEFAULT_DIR):
        full_images, full_labels = load_split(directory, "train")
        self.train_images = full_images[:TRAIN_SAMPLES]
        self.train_labels = full_labels[:TRAIN_SAMPLES]
        self.val_images = full_images[TRAIN_SAMPLES:]
        self.val_labels = full_labels[TRAIN_SAMPLES:]
        self.test_images, self.test_labels = load_split(directory, "t10k")


def normalize(pixels: torch.Tensor) -> torch.Tensor:
    return (pixels - MEAN) / STD


def augment(pixels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """crop(28, pad: 2) then hflip, per sample, on a [N, 1, H, W] batch."""
    count, _, height, width = pixels.shape
    padded = F.pad(pixels, (CROP_PADDING,) * 4)
    shifts = 2 * CROP_PADDING + 1
    top = torch.randint(0, shifts, (count,), generator=generator)
    left = torch.randint(0, shifts, (count,), generator=generator)
    rows = (top[:, None] + torch.arange(height))[:, :, None]
    columns = (left[:, None] + torch.arange(width))[:, None, :]
    cropped = padded[torch.arange(count)[:, None, None], 0, rows, columns].unsqueeze(1)
    flip = torch.rand(count, generator=generator) < 0.5
    return torch.where(flip[:, None, None, None], cropped.flip(-1), cropped)


class Batches:
    """Shuffled mini-batches of a split for `epochs` epochs; the last batch
    of an epoch may be shorter (kdc's executor runs it too)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch: int, epochs: int,
                 seed: int, augmented: bool):
        self.images = images
        self.labels = labels
        self.batch = batch
        self.epochs = epochs
        self.augmented = augmented
        self.generator = torch.Generator().manual_seed(seed)

    def steps_per_epoch(self) -> int:
        return (len(self.images) + self.batch - 1) // self.batch

    def __iter__(self):
        for _ in range(self.epochs):
            order = torch.randperm(len(self.images), generator=self.generator)
            for start in range(0, len(order), self.batch):
                indices = order[start:start + self.batch]
                pixels = self.images[indices]
                if self.augmented:
                    pixels = augment(pixels, self.generator)
                yield indices, normalize(pixels), self.labels[indices]
