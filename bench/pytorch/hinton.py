#!/usr/bin/env python3
"""stdlib/recipes/hinton.kd in PyTorch: the peer side of the benchmark.

Trains the ResNet teacher, a student from scratch and a student by
distillation (0.9 * KL(T = 4) + 0.1 * CE), evaluates each on t10k, and
exports the distilled student as safetensors (kdc's names) and ONNX. A fourth
stage, `distill_cached`, distils a fresh student from teacher logits computed
once over the un-augmented training split: the work kdc does in its cached
teacher mode, which applies only when the teacher's input is free of random
augmentation, so this stage trains on un-augmented images.

With --json, stdout carries one JSON object per stage, with the keys of
`kdc run --json`: stage, images, seconds, images_per_s, peak_rss_bytes,
accuracy, sensitivity, specificity, f1 (and a few more). Progress goes to
stderr.

After each stage the --out directory gets `<stage>.pt` (the model's state)
and `<stage>.json` (its line). With --resume, stages whose two files are
there are loaded instead of trained, and their lines printed again, so a
long run that was stopped goes on where it stopped; the settings that
change results must match the run's `settings.json`. Every stage seeds its
own model, batches and dropout, so a resumed run trains what an
uninterrupted one would.
"""

import argparse
import json
import os
import sys
import time
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fmnist  # noqa: E402
import models  # noqa: E402
import training  # noqa: E402

CLASSES = 10
TEMPERATURE = 4.0
ALPHA = 0.9
TEACHER_LR = 0.1
STUDENT_LR = 0.05
CACHE_BATCH = 512


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs-teacher", type=int, default=3)
    parser.add_argument("--epochs-student", type=int, default=3)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="intra-op threads (default: one per core)")
    parser.add_argument("--max-steps", type=int, default=0,
                        help="at most N optimizer steps per stage (0: no limit)")
    parser.add_argument("--train-samples", type=int, default=0,
                        help="train on the first N images of the train split only (0: all 54,000); "
                             "shortens the cached stage's teacher pass in quick runs")
    parser.add_argument("--eval-samples", type=int, default=0,
                        help="evaluate on the first N test images only (0: all 10,000)")
    parser.add_argument("--compile", action="store_true", help="train through torch.compile")
    parser.add_argument("--json", action="store_true", help="one JSON object per stage on stdout")
    parser.add_argument("--data", default=fmnist.DEFAULT_DIR, help="directory of the IDX files")
    parser.add_argument("--out", default="pytorch_hinton.run", help="directory for the exports")
    parser.add_argument("--resume", action="store_true",
                        help="load the stages already completed in --out instead of training them")
    parser.add_argument("--no-cached", action="store_true",
                        help="skip the distill_cached stage (the accuracy comparison does not use it)")
    args = parser.parse_args(argv)
    for name in ("epochs_teacher", "epochs_student", "batch", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.max_steps < 0 or args.eval_samples < 0 or args.train_samples < 0:
        parser.error("--max-steps, --train-samples and --eval-samples must not be negative")
    return args


class Recipe:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.data = fmnist.FashionMnist(args.data)
        if args.train_samples:
            self.data.train_images = self.data.train_images[:args.train_samples]
            self.data.train_labels = self.data.train_labels[:args.train_samples]
        limit = args.eval_samples or len(self.data.test_images)
        self.test_images = fmnist.normalize(self.data.test_images[:limit])
        self.test_labels = self.data.test_labels[:limit]

    def model(self, build, offset: int):
        # Each model gets its own seed, as kdc draws each parameter from the
        # plan's seed and the parameter's name.
        torch.manual_seed(self.args.seed * 1000 + offset)
        return build(CLASSES)

    def batches(self, epochs: int, offset: int, augmented: bool = True) -> fmnist.Batches:
        return fmnist.Batches(self.data.train_images, self.data.train_labels, self.args.batch, epochs,
                              self.args.seed * 1000 + offset, augmented)

    def total_steps(self, batches: fmnist.Batches) -> int:
        total = batches.epochs * batches.steps_per_epoch()
        return min(total, self.args.max_steps) if self.args.max_steps else total

    def runnable(self, model):
        return torch.compile(model) if self.args.compile else model

    def train(self, stage: str, model, batches, lr: float, loss_of) -> training.StageResult:
        return training.train(stage, model, batches, self.total_steps(batches), lr, loss_of)

    def settings(self) -> dict:
        """What a resumed run must share with the run it continues."""
        args = self.args
        return {name: getattr(args, name) for name in
                ("epochs_teacher", "epochs_student", "batch", "seed", "max_steps", "train_samples",
                 "eval_samples", "compile")}

    def open_run(self) -> None:
        os.makedirs(self.args.out, exist_ok=True)
        path = os.path.join(self.args.out, "settings.json")
        if self.args.resume and os.path.exists(path):
            with open(path) as file:
                held = json.load(file)
            differing = sorted(k for k in set(held) | set(self.settings()) if held.get(k) != self.settings().get(k))
            if differing:
                raise ValueError(f"{path}: the run was started with other settings "
                                 f"({', '.join(f'{k} {held.get(k)}, now {self.settings().get(k)}' for k in differing)}); "
                                 "resume it with the same options")
        with open(path, "w") as file:
            json.dump(self.settings(), file, indent=2)

    def stage(self, name: str, model_name: str, model, train) -> dict:
        """Trains `model` with train() and reports it, or with --resume loads
        the stage's state and line from a completed earlier run."""
        state = os.path.join(self.args.out, f"{name}.pt")
        saved = os.path.join(self.args.out, f"{name}.json")
        if self.args.resume and os.path.exists(state) and os.path.exists(saved):
            model.load_state_dict(torch.load(state))
            with open(saved) as file:
                line = json.load(file)
            line["resumed"] = True
            print(f"[{name}] loaded from {state}", file=sys.stderr, flush=True)
            if self.args.json:
                print(json.dumps(line), flush=True)
            return line
        line = self.report(train(), model_name, model)
        torch.save(model.state_dict(), state + ".tmp")
        os.replace(state + ".tmp", state)
        with open(saved + ".tmp", "w") as file:
            json.dump(line, file)
        os.replace(saved + ".tmp", saved)
        return line

    def report(self, result: training.StageResult, model_name: str, model) -> dict:
        scores = training.evaluate(model, self.test_images, self.test_labels, CLASSES)
        line = {
            "stage": result.stage,
            "model": model_name,
            "framework": "pytorch",
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "compiled": self.args.compile,
            "steps": result.steps,
            "images": result.images,
            "seconds": result.seconds,
            "images_per_s": result.images_per_s(),
            "first_step_seconds": result.first_step_seconds,
            "steady_images_per_s": result.steady_images_per_s(),
            "final_loss": result.final_loss,
            "peak_rss_bytes": training.peak_rss_bytes(),
            "accuracy": scores["accuracy"],
            "sensitivity": scores["sensitivity"],
            "specificity": scores["specificity"],
            "f1": scores["f1"],
            "eval_samples": scores["samples"],
        }
        line.update(result.extra)
        if self.args.json:
            print(json.dumps(line), flush=True)
        else:
            print(f"{line['stage']:>15}: {line['images']} images in {line['seconds']:.1f} s "
                  f"({line['images_per_s']:.0f} img/s), accuracy {line['accuracy']:.4f}, "
                  f"f1 {line['f1']:.4f}, peak RSS {line['peak_rss_bytes'] / 2**20:.0f} MiB", flush=True)
        return line

    def run(self) -> list[dict]:
        args = self.args
        lines = []

        self.open_run()

        teacher = self.model(models.build_teacher, 1)
        teacher_step = self.runnable(teacher)
        lines.append(self.stage("teacher", "T", teacher, lambda: self.train(
            "teacher", teacher, self.batches(args.epochs_teacher, 1), TEACHER_LR,
            lambda _, x, y: training.cross_entropy(teacher_step(x), y))))

        scratch = self.model(models.build_student, 2)
        scratch_step = self.runnable(scratch)
        lines.append(self.stage("scratch", "Scratch", scratch, lambda: self.train(
            "scratch", scratch, self.batches(args.epochs_student, 2), STUDENT_LR,
            lambda _, x, y: training.cross_entropy(scratch_step(x), y))))

        # The teacher teaches in inference mode (batch-norm running
        # statistics, no gradient), its forward timed as part of every step.
        teacher.eval()
        teacher_forward = self.runnable(teacher)
        student = self.model(models.build_student, 3)
        student_step = self.runnable(student)

        def distill_loss(_, images, labels):
            with torch.no_grad():
                teacher_logits = teacher_forward(images)
            logits = student_step(images)
            return (ALPHA * training.kl_distillation(logits, teacher_logits, TEMPERATURE)
                    + (1 - ALPHA) * training.cross_entropy(logits, labels))

        lines.append(self.stage("distill", "S", student, lambda: self.train(
            "distill", student, self.batches(args.epochs_student, 3), STUDENT_LR, distill_loss)))
        self.export(student)

        if not args.no_cached:
            lines.append(self.run_cached(teacher))
        return lines

    def run_cached(self, teacher) -> dict:
        """Teacher logits once over the un-augmented training split (timed
        apart, as kdc fills its cache before the stage clock starts), then
        distillation that gathers each batch's rows from the cache."""
        student = self.model(models.build_student, 3)
        student_step = self.runnable(student)

        def train():
            start = time.perf_counter()
            cache = training.predict(teacher, self.data.train_images, CACHE_BATCH, fmnist.normalize)
            cache_seconds = time.perf_counter() - start

            def cached_loss(indices, images, labels):
                logits = student_step(images)
                return (ALPHA * training.kl_distillation(logits, cache[indices], TEMPERATURE)
                        + (1 - ALPHA) * training.cross_entropy(logits, labels))

            batches = self.batches(self.args.epochs_student, 3, augmented=False)
            result = self.train("distill_cached", student, batches, STUDENT_LR, cached_loss)
            result.extra = {"cache_seconds": cache_seconds, "cache_images": len(cache)}
            return result

        return self.stage("distill_cached", "S_cached", student, train)

    def export(self, student) -> None:
        os.makedirs(self.args.out, exist_ok=True)
        models.export_kdc_safetensors(student, os.path.join(self.args.out, "hinton_student.safetensors"))
        export_onnx(student, os.path.join(self.args.out, "hinton_student.onnx"))


def export_onnx(model, path: str) -> None:
    """The inference graph with a dynamic batch. The TorchScript exporter
    needs no package beyond onnx; its deprecation notice is not news here."""
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, 1, 28, 28),), path, dynamo=False,
                          input_names=["image"], output_names=["logits"],
                          dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        Recipe(args).run()
    except (OSError, ValueError) as error:
        print(f"hinton.py: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
