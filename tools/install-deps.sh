#!/usr/bin/env bash
# Installs every build and test dependency of kdc from Debian 12 packages.
# Idempotent: packages already present are left alone; `apt-get update` runs at
# most once per invocation, and only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools clang-19
  antlr4 libantlr4-runtime-dev
  libdnnl-dev ocl-icd-opencl-dev opencl-headers nlohmann-json3-dev
  zlib1g-dev libpng-dev libjpeg-dev
  googletest libgtest-dev libgmock-dev
  python3 python3-venv python3-numpy python3-torch
  dataset-fashion-mnist
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-deps: missing packages (${missing[*]}) and not root; run as root or install sudo" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
