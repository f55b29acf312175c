#!/usr/bin/env python3
"""Student inference speed on the peer side: latency at batch 1 (the median
of many runs after warm-up) and throughput at batch 256, for PyTorch eager,
torch.compile and ONNX Runtime (CPU execution provider).

The student's weights do not change the work; --weights loads a kdc or
PyTorch export so that the same file can be timed on both sides.

With --json, one object per runtime on stdout: runtime, threads,
first_call_seconds (compilation included), latency_b1_ms, latency_b1_p90_ms, throughput_b256_images_per_s.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import models  # noqa: E402

RUNTIMES = ("eager", "compile", "onnxruntime")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--runs", type=int, default=200, help="timed batch-1 runs")
    parser.add_argument("--warmup", type=int, default=20, help="untimed runs first")
    parser.add_argument("--batches", type=int, default=10, help="timed batch-256 runs")
    parser.add_argument("--large-batch", type=int, default=256)
    parser.add_argument("--weights", help="a safetensors export of the student (kdc names)")
    parser.add_argument("--runtimes", default=",".join(RUNTIMES),
                        help=f"comma-separated subset of {', '.join(RUNTIMES)}")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if min(args.threads, args.runs, args.batches, args.large_batch) < 1 or args.warmup < 0:
        parser.error("--threads, --runs, --batches and --large-batch must be positive")
    args.runtimes = [r for r in args.runtimes.split(",") if r]
    unknown = set(args.runtimes) - set(RUNTIMES)
    if unknown:
        parser.error(f"unknown runtime(s): {', '.join(sorted(unknown))}")
    return args


def time_calls(call, runs: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return seconds


def measure(run, args) -> dict:
    """`run(batch_of_images)` timed at batch 1 and at the large batch."""
    rng = np.random.default_rng(0)
    one = rng.standard_normal((1, 1, 28, 28), dtype=np.float32)
    many = rng.standard_normal((args.large_batch, 1, 28, 28), dtype=np.float32)
    # The first call of a torch.compile'd model compiles it: the peer's
    # counterpart of `kdc compile` for the inference graph.
    start = time.perf_counter()
    run(one)
    first_call_seconds = time.perf_counter() - start
    latencies = sorted(time_calls(lambda: run(one), args.runs, args.warmup))
    batch_seconds = time_calls(lambda: run(many), args.batches, max(1, args.warmup // 10))
    return {
        "first_call_seconds": first_call_seconds,
        "latency_b1_ms": statistics.median(latencies) * 1e3,
        "latency_b1_p90_ms": latencies[int(0.9 * (len(latencies) - 1))] * 1e3,
        # The median batch, so one slow outlier on a shared machine does not
        # decide the figure.
        "throughput_b256_images_per_s": args.large_batch / statistics.median(batch_seconds),
    }


def torch_runner(model):
    @torch.inference_mode()
    def run(images: np.ndarray):
        return model(torch.from_numpy(images))
    return run


def onnx_runner(model, threads: int, directory: str):
    import onnxruntime

    path = os.path.join(directory, "student.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, 1, 28, 28),), path, dynamo=False,
                          input_names=["image"], output_names=["logits"],
                          dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    # Timing a graph that computes something else would prove nothing.
    probe = np.random.default_rng(1).standard_normal((4, 1, 28, 28), dtype=np.float32)
    with torch.inference_mode():
        expected = model(torch.from_numpy(probe)).numpy()
    (actual,) = session.run(["logits"], {"image": probe})
    if not np.allclose(actual, expected, rtol=1e-4, atol=1e-4):
        raise RuntimeError("the ONNX graph's logits differ from PyTorch's")
    return lambda images: session.run(["logits"], {"image": images})


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    student = models.build_student()
    if args.weights:
        try:
            models.load_kdc_safetensors(student, args.weights)
        except (OSError, ValueError) as error:
            print(f"infer.py: error: {error}", file=sys.stderr)
            return 1
    student.eval()
    with tempfile.TemporaryDirectory() as directory:
        for runtime in args.runtimes:
            if runtime == "eager":
                run = torch_runner(student)
            elif runtime == "compile":
                run = torch_runner(torch.compile(student))
            else:
                run = onnx_runner(student, args.threads, directory)
            framework = "onnxruntime" if runtime == "onnxruntime" else "pytorch"
            line = {"stage": "infer", "runtime": runtime, "framework": framework,
                    "threads": args.threads, **measure(run, args)}
            if args.json:
                print(json.dumps(line), flush=True)
            else:
                print(f"{runtime:>12}: batch 1 {line['latency_b1_ms']:.3f} ms (median), "
                      f"batch {args.large_batch} {line['throughput_b256_images_per_s']:.0f} img/s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
