"""The training pieces every stage of the Hinton recipe shares: optimizer,
schedule, losses, the timed training loop and evaluation."""

import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import metrics

MOMENTUM = 0.9
WEIGHT_DECAY = 5e-4
EVAL_BATCH = 256


def peak_rss_bytes() -> int:
    # Linux reports ru_maxrss in KiB: the peak of the whole process so far,
    # as kdc's runtime reports it.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def make_optimizer(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """sgd(lr, momentum: 0.9, nesterov: true, weight_decay: 5e-4), decay on
    every parameter as kdc's single optimizer group does."""
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=MOMENTUM, nesterov=True,
                           weight_decay=WEIGHT_DECAY)


def make_onecycle(optimizer: torch.optim.Optimizer, lr: float, total_steps: int):
    """`schedule onecycle`: PyTorch's OneCycleLR with its default shape
    (pct_start 0.3, cosine, div_factor 25, final_div_factor 1e4).
    Momentum is not cycled: the recipes leave `cycle_momentum` off, so kdc's
    schedule drives the learning rate only and keeps the optimizer's momentum
    of 0.9."""
    return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=max(total_steps, 1),
                                               cycle_momentum=False)


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits, labels)


def kl_distillation(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """kl(S, T, temperature): KL(softmax(t/T) || softmax(s/T)) * T^2, batch mean."""
    return F.kl_div(F.log_softmax(student / temperature, dim=1), F.log_softmax(teacher / temperature, dim=1),
                    reduction="batchmean", log_target=True) * temperature * temperature


@dataclass
class StageResult:
    stage: str
    steps: int = 0
    images: int = 0
    seconds: float = 0.0
    first_step_seconds: float = 0.0
    final_loss: float = float("nan")
    extra: dict = field(default_factory=dict)

    first_step_images: int = 0

    def images_per_s(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else 0.0

    def steady_images_per_s(self) -> float:
        """Throughput without the first step, which under torch.compile
        holds the compilation (kdc compiles before it runs)."""
        seconds = self.seconds - self.first_step_seconds
        return (self.images - self.first_step_images) / seconds if seconds > 0 else 0.0


# (indices, images, labels) -> scalar loss; the model's forward is inside so
# that each stage decides what else runs per step (a teacher, a cache).
LossFunction = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def train(stage: str, model: nn.Module, batches, total_steps: int, lr: float, loss_of: LossFunction,
          log_every: int = 50) -> StageResult:
    """Runs at most `total_steps` optimizer steps of `batches` and times them
    (data preparation included, as kdc's stage time includes its loader)."""
    optimizer = make_optimizer(model, lr)
    schedule = make_onecycle(optimizer, lr, total_steps)
    result = StageResult(stage)
    model.train()
    start = time.perf_counter()
    for indices, images, labels in batches:
        if result.steps >= total_steps:
            break
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of(indices, images, labels)
        loss.backward()
        optimizer.step()
        schedule.step()
        result.steps += 1
        result.images += len(indices)
        if result.steps == 1:
            result.first_step_seconds = time.perf_counter() - start
            result.first_step_images = len(indices)
        if result.steps % log_every == 0 or result.steps == total_steps:
            result.final_loss = float(loss.detach())
            elapsed = time.perf_counter() - start
            print(f"[{stage}] step {result.steps}/{total_steps} loss {result.final_loss:.4f} "
                  f"{result.images / elapsed:.0f} img/s", file=sys.stderr, flush=True)
    result.seconds = time.perf_counter() - start
    return result


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch: int = EVAL_BATCH,
            prepare: Callable[[torch.Tensor], torch.Tensor] = lambda x: x) -> torch.Tensor:
    """Logits of `model` in inference mode over `images`, each batch passed
    through `prepare` first (so that no normalised copy of a whole split is
    held in memory)."""
    model.eval()
    outputs = [model(prepare(images[start:start + batch])) for start in range(0, len(images), batch)]
    return torch.cat(outputs) if outputs else torch.empty(0)


def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, classes: int) -> dict:
    predicted = predict(model, images).argmax(dim=1).numpy()
    counts = metrics.confusion_matrix(labels.numpy(), predicted.astype(np.int64), classes)
    return metrics.classification_report(counts)
