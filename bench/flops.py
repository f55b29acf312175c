#!/usr/bin/env python3
"""Floating-point operations per image of the Hinton recipe's work, to turn
images/s into achieved GFLOP/s.

Convention: 2 FLOPs per multiply-accumulate of the convolutions and linear
layers, the operations that dominate and that every peer counts the same way;
batch norm, relu, pooling and additions (under 2% here) are left out, so the
achieved figures are slight underestimates. A training step costs about three
forwards (the forward, the gradient with respect to the input and the one
with respect to the weights), the usual rule.

The counts are computed from the layer shapes of the .kd models (widths,
kernels, strides, paddings, 1x28x28 input), written out here so that this
script needs neither PyTorch nor kdc:

    python3 bench/flops.py            # prints the table as JSON
"""

import json
import sys

IMAGE = (1, 28, 28)
CLASSES = 10


class Counter:
    """Follows a [C, H, W] activation through layers, adding up MACs."""

    def __init__(self, shape=IMAGE):
        self.shape = shape
        self.macs = 0

    def conv(self, out: int, k: int = 3, stride: int = 1, pad: int = 0, source=None):
        channels, height, width = source if source is not None else self.shape
        out_h = (height + 2 * pad - k) // stride + 1
        out_w = (width + 2 * pad - k) // stride + 1
        self.macs += out * out_h * out_w * channels * k * k
        self.shape = (out, out_h, out_w)
        return self.shape

    def maxpool(self, k: int):
        channels, height, width = self.shape
        self.shape = (channels, height // k, width // k)

    def gap_linear(self, out: int):
        self.macs += self.shape[0] * out
        self.shape = (out,)


def basic_block(counter: Counter, width: int, stride: int = 1) -> None:
    """models/resnet.kd BasicBlock: two 3x3 convs, a 1x1 projection when the
    shape changes."""
    source = counter.shape
    counter.conv(width, k=3, stride=stride, pad=1)
    counter.conv(width, k=3, pad=1)
    if stride != 1 or source[0] != width:
        counter.conv(width, k=1, stride=stride, source=source)


def teacher_macs(w: int = 32) -> int:
    """models/resnet.kd TeacherResNet(w = 32)."""
    counter = Counter()
    counter.conv(w, k=3, pad=1)
    basic_block(counter, w)
    basic_block(counter, 2 * w, stride=2)
    basic_block(counter, 4 * w, stride=2)
    counter.gap_linear(CLASSES)
    return counter.macs


def student_macs(w1: int = 24, w2: int = 48, w3: int = 96) -> int:
    """models/student.kd Student."""
    counter = Counter()
    counter.conv(w1, k=3, pad=1)
    counter.maxpool(2)
    counter.conv(w2, k=3, pad=1)
    counter.maxpool(2)
    counter.conv(w3, k=3, pad=1)
    counter.gap_linear(CLASSES)
    return counter.macs


TRAINING_FACTOR = 3


def flops_per_image() -> dict:
    """FLOPs per image of each benchmarked stage."""
    teacher = 2 * teacher_macs()
    student = 2 * student_macs()
    return {
        "teacher_forward": teacher,
        "student_forward": student,
        "teacher": TRAINING_FACTOR * teacher,          # training the teacher
        "scratch": TRAINING_FACTOR * student,          # training a student on labels
        "distill": teacher + TRAINING_FACTOR * student,  # teacher forward + student step
        "distill_cached": TRAINING_FACTOR * student,   # teacher logits from the cache
        "infer": student,
    }


def achieved_gflops(stage: str, images_per_s: float) -> float:
    return flops_per_image()[stage] * images_per_s / 1e9


if __name__ == "__main__":
    json.dump(flops_per_image(), sys.stdout, indent=2)
    print()
