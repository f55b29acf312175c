#!/usr/bin/env bash
# Creates BUILD_DIR/pyenv for the Python interop tests (test/interop): a
# virtual environment over Debian's python3 with --system-site-packages, so
# that Debian's python3-torch and python3-numpy are visible, plus the
# `safetensors` package from PyPI (Debian 12 does not package it).
#
#   test/interop/make-venv.sh BUILD_DIR
#
# Idempotent: a ready environment is left alone. When something is missing
# (no torch, no network to reach PyPI) it says why, writes the reason to
# BUILD_DIR/pyenv/unavailable and exits 0: the interop tests are then
# reported unsupported by lit instead of failing the suite.
set -u

if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
venv="$1/pyenv"
marker="$venv/unavailable"
system_python=/usr/bin/python3
modules="import safetensors.numpy, safetensors.torch, torch, numpy"

unavailable() {
  mkdir -p "$venv"
  echo "$1" > "$marker"
  echo "make-venv: the Python interop tests are unavailable: $1"
  exit 0
}

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$modules" 2>/dev/null; then
  rm -f "$marker"
  echo "make-venv: $venv is ready"
  exit 0
fi

[ -x "$system_python" ] || unavailable "no $system_python"
"$system_python" -c "import torch, numpy" 2>/dev/null ||
  unavailable "Debian's python3-torch and python3-numpy are not installed (tools/install-deps.sh installs them)"
if [ ! -x "$venv/bin/python" ]; then
  rm -rf "$venv"
  "$system_python" -m venv --system-site-packages "$venv" ||
    unavailable "'$system_python -m venv' failed (is python3-venv installed?)"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --timeout 30 --retries 1 safetensors ||
  unavailable "pip could not install safetensors from PyPI (no network?)"
"$venv/bin/python" -c "$modules" ||
  unavailable "safetensors was installed but does not import"
rm -f "$marker"
echo "make-venv: $venv is ready"
