"""PyTorch twins of the stdlib models the Hinton recipe uses.

`TeacherResNet` (stdlib/models/resnet.kd) and `Student`
(stdlib/models/student.kd), layer for layer: the same widths, strides,
padding, bias flags and initialisation as kdc gives them, so that the
benchmark compares the same work.

The modules are laid out so that their `state_dict` names follow kdc's
parameter naming (docs/kdx.md): `<block>.<op><k>.<param>`, where `<block>` is
the top-level `block` item the layer belongs to (nothing for layers outside a
block) and `k` counts that op within the block in the order the layers are
built. A `BasicBlock` therefore holds `conv0 bn0 conv1 bn1` for its residual
branch and `conv2 bn2` for the projection shortcut, and the classifier is
`linear0`. A kdc export (which drops the `<model>/` prefix) then maps onto a
module by name alone; `KDC_TO_TORCH_RULES` is the one place to adjust if the
compiler's naming changes.
"""

import math
import os
import re

import torch
from torch import nn
import torch.nn.functional as F

# kdc's `init: "kaiming"`: Kaiming normal over fan_in with the ReLU gain
# sqrt(2), for conv and linear weights alike (compiler/lib/Import,
# weightInit). Biases start at zero, batch-norm scale at one and shift at zero.
KAIMING_GAIN = math.sqrt(2.0)

TEACHER_PARAMETERS = 308_074
STUDENT_PARAMETERS = 53_362


def kaiming_normal_fan_in_(weight: torch.Tensor) -> None:
    fan_in = weight[0].numel()
    with torch.no_grad():
        weight.normal_(0.0, KAIMING_GAIN / math.sqrt(fan_in))


def init_like_kdc(module: nn.Module) -> None:
    """Initialises every layer of `module` the way kdc's plans do."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            kaiming_normal_fan_in_(layer.weight)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.BatchNorm2d):
            nn.init.ones_(layer.weight)
            nn.init.zeros_(layer.bias)
            layer.reset_running_stats()


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


# bn's defaults in the language: momentum 0.1, eps 1e-5 (PyTorch's as well).
def batch_norm(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1)


class ConvBnRelu(nn.Module):
    """`x -> conv(k: 3, pad: 1, bias: false) -> bn -> relu`, as a block's
    `conv0`/`bn0`, optionally followed by `maxpool(2)`."""

    def __init__(self, in_channels: int, out_channels: int, pool: bool = False):
        super().__init__()
        self.conv0 = conv3x3(in_channels, out_channels)
        self.bn0 = batch_norm(out_channels)
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn0(self.conv0(x)))
        return F.max_pool2d(x, 2) if self.pool else x


class BasicBlock(nn.Module):
    """models/resnet.kd BasicBlock: two 3x3 convs and an identity or strided
    1x1 projection shortcut, then relu after the addition."""

    def __init__(self, in_channels: int, width: int, stride: int = 1):
        super().__init__()
        self.conv0 = conv3x3(in_channels, width, stride)
        self.bn0 = batch_norm(width)
        self.conv1 = conv3x3(width, width)
        self.bn1 = batch_norm(width)
        # The same condition as the .kd model: project when the shape changes.
        self.projects = stride != 1 or in_channels != width
        if self.projects:
            self.conv2 = nn.Conv2d(in_channels, width, 1, stride=stride, bias=False)
            self.bn2 = batch_norm(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = F.relu(self.bn0(self.conv0(x)))
        residual = self.bn1(self.conv1(residual))
        shortcut = self.bn2(self.conv2(x)) if self.projects else x
        return F.relu(residual + shortcut)


class TeacherResNet(nn.Module):
    """models/resnet.kd TeacherResNet(w = 32): stem, l1 (w), l2 (2w, /2),
    l3 (4w, /2), global average pooling, linear."""

    def __init__(self, classes: int = 10, w: int = 32, in_channels: int = 1):
        super().__init__()
        self.stem = ConvBnRelu(in_channels, w)
        self.l1 = BasicBlock(w, w)
        self.l2 = BasicBlock(w, 2 * w, stride=2)
        self.l3 = BasicBlock(2 * w, 4 * w, stride=2)
        self.linear0 = nn.Linear(4 * w, classes)
        init_like_kdc(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.l3(self.l2(self.l1(self.stem(x))))
        embed = features.mean(dim=(2, 3))
        return self.linear0(embed)


class Student(nn.Module):
    """models/student.kd Student: three conv-bn-relu blocks (the first two
    pooled), global average pooling, dropout(p), linear."""

    def __init__(self, classes: int = 10, w1: int = 24, w2: int = 48, w3: int = 96,
                 p: float = 0.0, in_channels: int = 1):
        super().__init__()
        self.l1 = ConvBnRelu(in_channels, w1, pool=True)
        self.l2 = ConvBnRelu(w1, w2, pool=True)
        self.l3 = ConvBnRelu(w2, w3)
        self.dropout = nn.Dropout(p)
        self.linear0 = nn.Linear(w3, classes)
        init_like_kdc(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.l3(self.l2(self.l1(x)))
        embed = self.dropout(features.mean(dim=(2, 3)))
        return self.linear0(embed)


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def build_teacher(classes: int = 10) -> TeacherResNet:
    model = TeacherResNet(classes=classes)
    if classes == 10:
        count = parameter_count(model)
        assert count == TEACHER_PARAMETERS, f"TeacherResNet has {count} parameters, the .kd model {TEACHER_PARAMETERS}"
    return model


def build_student(classes: int = 10) -> Student:
    model = Student(classes=classes)
    if classes == 10:
        count = parameter_count(model)
        assert count == STUDENT_PARAMETERS, f"Student has {count} parameters, the .kd model {STUDENT_PARAMETERS}"
    return model


# kdc export name -> PyTorch state_dict name, as (regex, replacement) pairs
# applied in order after the `<model>/` prefix is dropped. The modules above
# already use kdc's layer paths, so no rule is needed today; a renaming in the
# compiler is absorbed here, in one place.
KDC_TO_TORCH_RULES: list[tuple[str, str]] = []

# PyTorch-only state that kdc does not have: batch-norm's step counter only
# matters for momentum=None, which the language never uses.
TORCH_ONLY_SUFFIXES = (".num_batches_tracked",)


def kdc_to_torch_name(name: str) -> str:
    if "/" in name:
        name = name.split("/", 1)[1]
    for pattern, replacement in KDC_TO_TORCH_RULES:
        name = re.sub(pattern, replacement, name)
    return name


def load_kdc_safetensors(model: nn.Module, path: str) -> list[str]:
    """Loads a kdc safetensors export into `model` by name, whatever the
    order of the tensors in the file.

    Every parameter of the module must be in the file with the same shape;
    batch-norm running statistics are loaded when present (an export of
    weights only leaves them at their initial values, returned as the list of
    names not found). Unknown names in the file are an error, so a naming
    mismatch cannot pass silently.
    """
    from safetensors.torch import load_file

    if not os.path.isfile(path):
        raise ValueError(f"{path}: no such file")
    try:
        tensors = load_file(path)
    except Exception as error:  # the Rust reader's own error type
        raise ValueError(f"{path}: not a readable safetensors file: {error}") from error
    state = model.state_dict()
    parameter_names = {name for name, _ in model.named_parameters()}
    loaded: dict[str, torch.Tensor] = {}
    unknown = []
    for kdc_name, tensor in tensors.items():
        torch_name = kdc_to_torch_name(kdc_name)
        if torch_name not in state:
            unknown.append(kdc_name)
            continue
        if tuple(state[torch_name].shape) != tuple(tensor.shape):
            raise ValueError(f"{path}: '{kdc_name}' has shape {list(tensor.shape)}, "
                             f"the module's '{torch_name}' {list(state[torch_name].shape)}")
        loaded[torch_name] = tensor
    if unknown:
        raise ValueError(f"{path}: names the module does not have: {', '.join(sorted(unknown))}")
    missing_parameters = sorted(parameter_names - loaded.keys())
    if missing_parameters:
        raise ValueError(f"{path}: parameters missing from the file: {', '.join(missing_parameters)}")
    model.load_state_dict(loaded, strict=False)
    return sorted(name for name in state.keys() - loaded.keys()
                  if not name.endswith(TORCH_ONLY_SUFFIXES))


def export_kdc_safetensors(model: nn.Module, path: str) -> None:
    """Writes `model` with kdc's export names (no `<model>/` prefix), so the
    file loads into kdc (`load "..."`) and back into these modules."""
    from safetensors.torch import save_file

    tensors = {name: tensor.detach().contiguous().float()
               for name, tensor in model.state_dict().items()
               if not name.endswith(TORCH_ONLY_SUFFIXES)}
    save_file(tensors, path, metadata={"producer": "kdc bench (PyTorch)"})
