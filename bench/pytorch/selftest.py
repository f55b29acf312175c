#!/usr/bin/env python3
"""Checks of the PyTorch side that need no data set and no timing: the
models match the .kd parameter counts, kdc-named safetensors load by name in
any order (and wrong files are refused), the metrics follow kdc's
definitions, and the augmentation keeps shapes and pixels.

    bench/.venv/bin/python bench/pytorch/selftest.py
"""

import os
import random
import sys
import tempfile
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import flops  # noqa: E402
import fmnist  # noqa: E402
import summarize  # noqa: E402
import metrics  # noqa: E402
import models  # noqa: E402
import training  # noqa: E402
from safetensors.torch import save_file  # noqa: E402


class ModelTest(unittest.TestCase):
    def test_parameter_counts_match_the_kd_models(self):
        self.assertEqual(models.parameter_count(models.build_teacher()), 308_074)
        self.assertEqual(models.parameter_count(models.build_student()), 53_362)

    def test_names_follow_kdc_layer_paths(self):
        names = set(models.build_student().state_dict())
        for expected in ("l1.conv0.weight", "l1.bn0.running_var", "l3.bn0.bias", "linear0.bias"):
            self.assertIn(expected, names)
        teacher = set(models.build_teacher().state_dict())
        self.assertIn("l2.conv2.weight", teacher)      # projection shortcut
        self.assertNotIn("l1.conv2.weight", teacher)   # identity shortcut
        self.assertIn("stem.bn0.weight", teacher)

    def test_init_is_kaiming_fan_in(self):
        torch.manual_seed(0)
        teacher = models.build_teacher()
        weight = teacher.l3.conv1.weight  # 128 x 128 x 3 x 3: many samples
        expected = (2.0 / (128 * 9)) ** 0.5
        self.assertAlmostEqual(float(weight.detach().std()), expected, delta=0.05 * expected)
        self.assertTrue(torch.all(teacher.linear0.bias == 0))
        self.assertTrue(torch.all(teacher.l1.bn0.weight == 1))

    def test_shapes_of_forward(self):
        x = torch.randn(3, 1, 28, 28)
        self.assertEqual(tuple(models.build_teacher()(x).shape), (3, 10))
        self.assertEqual(tuple(models.build_student()(x).shape), (3, 10))


def traced_macs(model: torch.nn.Module) -> int:
    """Multiply-accumulates of conv and linear layers, seen during a forward."""
    total = [0]

    def hook(layer, _, output):
        if isinstance(layer, torch.nn.Conv2d):
            kernel = layer.in_channels // layer.groups * layer.kernel_size[0] * layer.kernel_size[1]
            total[0] += output[0].numel() * kernel
        else:
            total[0] += layer.in_features * layer.out_features

    for layer in model.modules():
        if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear)):
            layer.register_forward_hook(hook)
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    return total[0]


class FlopsTest(unittest.TestCase):
    def test_analytic_counts_match_the_modules(self):
        self.assertEqual(flops.teacher_macs(), traced_macs(models.build_teacher()))
        self.assertEqual(flops.student_macs(), traced_macs(models.build_student()))

    def test_stage_costs(self):
        table = flops.flops_per_image()
        self.assertEqual(table["distill"], table["teacher_forward"] + 3 * table["student_forward"])
        self.assertEqual(table["distill_cached"], 3 * table["student_forward"])


class LoadTest(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.directory.name, "student.safetensors")

    def tearDown(self):
        self.directory.cleanup()

    def write(self, tensors: dict):
        save_file(tensors, self.path)

    def kdc_export(self, source: torch.nn.Module, prefix: str = "") -> dict:
        tensors = {prefix + name: tensor.clone() for name, tensor in source.state_dict().items()
                   if not name.endswith(models.TORCH_ONLY_SUFFIXES)}
        # The order of tensors in the file must not matter.
        items = list(tensors.items())
        random.Random(7).shuffle(items)
        return dict(items)

    def test_loads_by_name_in_any_order_with_or_without_model_prefix(self):
        torch.manual_seed(1)
        source = models.build_student()
        with torch.no_grad():
            source.l2.bn0.running_mean.uniform_()
        for prefix in ("", "S/"):
            self.write(self.kdc_export(source, prefix))
            torch.manual_seed(2)
            target = models.build_student()
            self.assertEqual(models.load_kdc_safetensors(target, self.path), [])
            for name, tensor in source.state_dict().items():
                self.assertTrue(torch.equal(tensor, target.state_dict()[name]), name)

    def test_weights_only_file_reports_the_state_left_alone(self):
        source = models.build_student()
        tensors = {name: t for name, t in self.kdc_export(source).items() if "running" not in name}
        self.write(tensors)
        left = models.load_kdc_safetensors(models.build_student(), self.path)
        self.assertIn("l1.bn0.running_mean", left)

    def test_refuses_unknown_missing_and_misshapen(self):
        good = self.kdc_export(models.build_student())
        unknown = dict(good, **{"l9.conv0.weight": torch.zeros(1)})
        missing = {k: v for k, v in good.items() if k != "linear0.weight"}
        misshapen = dict(good, **{"linear0.bias": torch.zeros(11)})
        for tensors, message in ((unknown, "does not have"), (missing, "missing"), (misshapen, "shape")):
            self.write(tensors)
            with self.assertRaisesRegex(ValueError, message):
                models.load_kdc_safetensors(models.build_student(), self.path)

    def test_refuses_files_that_are_not_safetensors(self):
        with open(self.path, "wb") as stream:
            stream.write(b"x")
        for path in (self.path, self.path + ".absent"):
            with self.assertRaises(ValueError):
                models.load_kdc_safetensors(models.build_student(), path)

    def test_export_round_trip(self):
        source = models.build_teacher()
        models.export_kdc_safetensors(source, self.path)
        target = models.build_teacher()
        models.load_kdc_safetensors(target, self.path)
        x = torch.randn(2, 1, 28, 28)
        source.eval(), target.eval()
        self.assertTrue(torch.allclose(source(x), target(x)))


class MetricsTest(unittest.TestCase):
    def test_macro_metrics_by_hand(self):
        # Rows: true class, columns: predicted. Class 2 is never predicted.
        counts = np.array([[3, 1, 0],
                           [0, 2, 0],
                           [1, 1, 0]])
        report = metrics.classification_report(counts)
        self.assertAlmostEqual(report["accuracy"], 5 / 8)
        self.assertAlmostEqual(report["sensitivity"], (3 / 4 + 2 / 2 + 0) / 3)
        # specificity_c = TN / (TN + FP)
        self.assertAlmostEqual(report["specificity"], (3 / 4 + 4 / 6 + 6 / 6) / 3)
        precision = [3 / 4, 2 / 4, 0.0]
        recall = [3 / 4, 1.0, 0.0]
        f1 = [2 * p * r / (p + r) if p + r else 0.0 for p, r in zip(precision, recall)]
        self.assertAlmostEqual(report["f1"], sum(f1) / 3)

    def test_confusion_ignores_out_of_range(self):
        counts = metrics.confusion_matrix(np.array([0, 1, 5]), np.array([0, 0, 1]), 2)
        self.assertEqual(counts.tolist(), [[1, 0], [1, 0]])


class DataTest(unittest.TestCase):
    def test_augment_shifts_and_flips_without_changing_shape(self):
        generator = torch.Generator().manual_seed(0)
        pixels = torch.rand(64, 1, 28, 28)
        out = fmnist.augment(pixels, generator)
        self.assertEqual(out.shape, pixels.shape)
        # A crop of the zero-padded image: every output pixel is 0 or an input pixel.
        self.assertTrue(torch.all((out == 0) | torch.isin(out, pixels)))

    def test_batches_cover_the_split_once_per_epoch(self):
        images, labels = torch.zeros(10, 1, 28, 28), torch.arange(10)
        batches = fmnist.Batches(images, labels, batch=4, epochs=2, seed=0, augmented=False)
        self.assertEqual(batches.steps_per_epoch(), 3)
        seen = [batch_labels for _, _, batch_labels in batches]
        self.assertEqual([len(b) for b in seen], [4, 4, 2, 4, 4, 2])
        self.assertEqual(sorted(torch.cat(seen[:3]).tolist()), list(range(10)))

    def test_read_idx_refuses_truncated_files(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "x-labels-idx1-ubyte")
            with open(path, "wb") as stream:
                stream.write(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
            with self.assertRaisesRegex(ValueError, "declares 5"):
                fmnist.read_idx(path)


class LossTest(unittest.TestCase):
    def test_kl_matches_the_formula(self):
        torch.manual_seed(0)
        s, t, temperature = torch.randn(5, 10), torch.randn(5, 10), 4.0
        p = torch.softmax(t / temperature, 1)
        q = torch.softmax(s / temperature, 1)
        expected = temperature ** 2 * (p * (p.log() - q.log())).sum(1).mean()
        self.assertAlmostEqual(float(training.kl_distillation(s, t, temperature)), float(expected), places=5)


class SummaryTest(unittest.TestCase):
    """The harness's reading of both sides' output, on made-up figures."""

    def test_ratios_and_missing_kdc_commands(self):
        import json
        with tempfile.TemporaryDirectory() as work:
            def write(name, text):
                with open(os.path.join(work, name), "w", encoding="utf-8") as stream:
                    stream.write(text)
            peer = [{"stage": "teacher", "images_per_s": 100.0, "peak_rss_bytes": 2 * 2**20},
                    {"stage": "distill", "images_per_s": 200.0, "peak_rss_bytes": 4 * 2**20}]
            write("r1.pytorch.train.jsonl", "".join(json.dumps(line) + "\n" for line in peer))
            write("r2.pytorch.train.jsonl", json.dumps({"stage": "distill", "images_per_s": 250.0}) + "\n")
            # kdc's run report: one document with a "stages" list.
            report = {"stages": [{"name": "T", "images_per_s": 300.0, "peak_rss_bytes": 2**20},
                                 {"name": "distill", "images_per_s": 500.0, "peak_rss_bytes": 2 * 2**20}]}
            write("r1.kdc.train.jsonl", json.dumps(report, indent=2))
            write("r1.kdc.infer.unavailable", "kdrt infer has no --bench timing mode yet")
            rows = {row["metric"]: row for row in summarize.summarize(summarize.collect(work), 1000.0)}
        self.assertEqual(rows["distill.images_per_s"]["peer"], 250.0)     # best over rounds
        self.assertAlmostEqual(rows["distill.images_per_s"]["ratio"], 2.0)
        self.assertAlmostEqual(rows["teacher.images_per_s"]["ratio"], 3.0)
        self.assertAlmostEqual(rows["train.peak_rss_mib"]["ratio"], 2.0)    # lower is better
        self.assertIsNone(rows["infer.latency_b1_ms"]["kdc"])
        self.assertIn("--bench", rows["infer.latency_b1_ms"]["kdc_missing"])
        gflops = rows["teacher.gflops"]
        self.assertAlmostEqual(gflops["kdc"], 300.0 * flops.flops_per_image()["teacher"] / 1e9)
        self.assertAlmostEqual(gflops["kdc_percent_of_peak"], gflops["kdc"] / 10.0)


if __name__ == "__main__":
    unittest.main()
