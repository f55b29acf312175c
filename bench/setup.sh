#!/usr/bin/env bash
# Creates bench/.venv with the PyTorch side of the benchmark: the newest torch
# from PyPI, onnx, onnxruntime, safetensors and numpy. Running it again only
# upgrades what is outdated, so it is safe to call before every benchmark.
#
# Usage: bench/setup.sh            (set PYTHON to choose the interpreter)
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$bench/.venv"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv"
  "$python" -m venv "$venv"
fi

# --upgrade (not a pinned version) so the comparison is always against the
# newest PyTorch release; pip skips the download when it is already current.
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --upgrade --upgrade-strategy only-if-needed \
  torch onnx onnxruntime safetensors numpy

"$venv/bin/python" - <<'PY'
import sys
import numpy, onnx, onnxruntime, safetensors, torch
print(f"python       {sys.version.split()[0]}")
print(f"torch        {torch.__version__} (threads {torch.get_num_threads()})")
print(f"onnx         {onnx.__version__}")
print(f"onnxruntime  {onnxruntime.__version__}")
print(f"safetensors  {safetensors.__version__}")
print(f"numpy        {numpy.__version__}")
PY
