#!/usr/bin/env bash
# Sourced by tools/demo.sh and tools/run_tests.sh: create .venv if missing, activate it and
# install pjepa3d (editable) with the requirements files given as arguments' extras.
# torch is pinned first: an unpinned torch pulls a multi-GB CUDA build on a CPU machine.
# PJEPA3D_WITH_MMDET3D=1 also installs the detection extras (requirements/mmdet3d.txt: mmcv 2.1.0
# compiled from source the first time, 11 min on a 2-core first-generation EPYC; pip caches the wheel), which
# projects/PointJEPA_nuScenes needs; `PJEPA3D_WITH_MMDET3D=1 bash tools/setup_env.sh` does only that.
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
if [ "${PJEPA3D_WITH_MMDET3D:-0}" = 1 ]; then
  echo "[pjepa3d] installing the detection extras (requirements/mmdet3d.txt)"
  # mmcv's setup.py imports pkg_resources (gone in setuptools>=81) and the installed torch (no build isolation);
  # ninja lets torch's extension builder compile MAX_JOBS files at a time (without it: one at a time)
  python -m pip install -q --disable-pip-version-check "setuptools<81" wheel ninja
  if ! python -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '2.1.0'" >/dev/null 2>&1; then
    echo "[pjepa3d] building mmcv 2.1.0 with its ops from source (about 11 min on 2 cores; cached afterwards)"
    # Python's own compile flags (-O3 -DNDEBUG ...) with -g0 last: no debug information, which took 17m29s of
    # building against 10m47s without (both 2 jobs, idle 2-core AVX2 EPYC) and made _ext.so 83 MB against 2.2 MB.
    # CFLAGS replaces Python's flags for the extension, hence the whole list; a CFLAGS of your own is used as it is
    MMCV_CFLAGS="${CFLAGS:-$(python -c 'import sysconfig; print(sysconfig.get_config_var("CFLAGS") or "")') -g0}"
    CFLAGS="$MMCV_CFLAGS" MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-2}" python -m pip install --disable-pip-version-check \
      --no-build-isolation --force-reinstall --no-deps "mmcv==2.1.0"
  fi
  python -m pip install -q --disable-pip-version-check -r requirements/mmdet3d.txt
  echo "[pjepa3d] detection extras installed: $(python -c 'import mmcv, mmdet, mmdet3d; print("mmcv", mmcv.__version__, "mmdet", mmdet.__version__, "mmdet3d", mmdet3d.__version__)')"
fi
