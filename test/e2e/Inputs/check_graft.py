"""Checks what a NetGraft run (Inputs/graft.kd) leaves behind.

usage: check_graft.py RUN_DIR TEACHER_STAGE LAST_STAGE EXPANDED_MLIR

- The frozen teacher: every T/ tensor (weights and batch-norm statistics)
  after the last graft stage is bitwise the one the teacher stage left.
- The kept block: the student's S/b1.* are bitwise the teacher's T/b1.*.
- The export: exactly the final student's tensors (kept and grafted layers
  under their paths, adapters as S.<block>.before|after.*), each bitwise
  the parameter it was written from.
- The final student is the last hybrid: in the expanded IR, the ops of
  @S_model.grafted are those of the last stage's hybrid, with the
  teacher's parameters read from the student's copies (T/ -> S/), so with
  the weights above it computes the same predictions.
Prints "graft ok" and exits 0, else what failed and exits 1.
"""
import json
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from compare_safetensors import read  # noqa: E402


def model_ops(mlir, name):
    """The body lines of kd.model @name, SSA names dropped."""
    lines, inside = [], False
    for line in mlir.splitlines():
        if line.strip().startswith("kd.model @%s(" % name):
            inside = True
            continue
        if inside and line.strip() == "}":
            break
        if inside:
            lines.append(re.sub(r"%[\w#]+", "%", line.strip()))
    return lines


def main():
    run, teacher_stage, last_stage, expanded = sys.argv[1:5]
    errors = []
    before = read(os.path.join(run, "checkpoints", teacher_stage + ".safetensors"))
    after = read(os.path.join(run, "checkpoints", last_stage + ".safetensors"))
    teacher = [n for n in after if n.startswith("T/") and n.count(".") == 2]
    if not teacher:
        errors.append("no teacher tensors in the checkpoint")
    for name in teacher:
        if before[name] != after[name]:
            errors.append("frozen teacher tensor %s changed" % name)
    kept = [n for n in teacher if n.startswith("T/b1.")]
    if not kept:
        errors.append("no kept teacher block b1")
    for name in kept:
        if after["S/" + name[2:]] != after[name]:
            errors.append("student copy of %s differs from the teacher's" % name)

    exported = read(os.path.join(run, "student.safetensors"))
    with open(expanded) as f:
        mlir = f.read()
    final = model_ops(mlir, "S_model.grafted")
    params = re.findall(r'kd\.param "([^"]+)"', "\n".join(final))
    expected = {}
    for param in params:
        expected[param.split("/", 1)[1]] = param
    if sorted(exported) != sorted(expected):
        errors.append("export holds %s, the final student %s" % (sorted(exported), sorted(expected)))
    for name, param in expected.items():
        if name in exported and exported[name] != after[param]:
            errors.append("exported %s differs from %s" % (name, param))
    if not any(p.startswith("adapters/S.") for p in params):
        errors.append("the final student has no adapters")

    hybrid = model_ops(mlir, last_stage + "_hybrid")
    renamed = [line.replace('kd.param "T/', 'kd.param "S/') for line in hybrid]
    if not final or renamed != final:
        errors.append("@S_model.grafted is not the last hybrid with the teacher's parameters renamed")

    for error in errors:
        print(error)
    if errors:
        return 1
    print("graft ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
