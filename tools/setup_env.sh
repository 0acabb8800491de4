#!/usr/bin/env bash
# Sourced by tools/demo.sh and tools/run_tests.sh: create .venv if missing, activate it and
# install pjepa3d (editable) with the requirements files given as arguments' extras.
# torch is pinned first: an unpinned torch pulls a multi-GB CUDA build on a CPU machine.
set -euo pipefail
PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$PROJECT_ROOT"
if [ ! -x .venv/bin/python ]; then
  echo "[pjepa3d] creating .venv in $PROJECT_ROOT/.venv"
  "${PYTHON:-python3}" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
echo "[pjepa3d] installing torch==${TORCH_VERSION:-2.13.0} and pjepa3d${PJEPA3D_EXTRAS:-} (pip, quiet)"
python -m pip install -q --disable-pip-version-check "torch==${TORCH_VERSION:-2.13.0}"
python -m pip install -q --disable-pip-version-check -e ".${PJEPA3D_EXTRAS:-}"
