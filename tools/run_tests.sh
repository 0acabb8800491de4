#!/usr/bin/env bash
# Create .venv if missing, install pjepa3d with its test requirements and the detection extras
# (requirements/mmdet3d.txt, for tests/test_projects; PJEPA3D_WITH_MMDET3D=0 skips them and those
# tests are then skipped with the reason), run pytest.
# Slow end-to-end tests (marked `slow`) run only with RUN_SLOW=1. Extra arguments go to pytest.
# The tests run in one pytest-xdist worker per core, at most 4, each with one thread (tests/conftest.py): most of the
# suite's time is single-threaded (Python, imports, tools started as subprocesses with one thread), so on 2 cores two
# workers take about two thirds of the time of one pytest process. PJEPA3D_TEST_WORKERS=N chooses N; 0 or 1 runs
# one plain pytest process (for -s, --pdb, or reading the output in order).
set -euo pipefail
PJEPA3D_EXTRAS='[tests]'
PJEPA3D_WITH_MMDET3D="${PJEPA3D_WITH_MMDET3D:-1}"
. "$(dirname "$0")/setup_env.sh"
MARK=(-m "not slow")
[ "${RUN_SLOW:-0}" = 1 ] && MARK=()
CORES="$(nproc 2>/dev/null || echo 1)"
WORKERS="${PJEPA3D_TEST_WORKERS:-$(( CORES > 4 ? 4 : CORES ))}"
XDIST=()
if [ "$WORKERS" -gt 1 ]; then XDIST=(-n "$WORKERS"); fi
echo "[pjepa3d] pytest with ${WORKERS} worker(s) (PJEPA3D_TEST_WORKERS to change)"
python -m pytest "${MARK[@]}" "${XDIST[@]}" "$@"
