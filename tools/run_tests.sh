#!/usr/bin/env bash
# Create .venv if missing, install pjepa3d with its test requirements and the detection extras
# (requirements/mmdet3d.txt, for tests/test_projects; PJEPA3D_WITH_MMDET3D=0 skips them and those
# tests are then skipped with the reason), run pytest.
# Slow end-to-end tests (marked `slow`) run only with RUN_SLOW=1. Extra arguments go to pytest.
set -euo pipefail
PJEPA3D_EXTRAS='[tests]'
PJEPA3D_WITH_MMDET3D="${PJEPA3D_WITH_MMDET3D:-1}"
. "$(dirname "$0")/setup_env.sh"
MARK=(-m "not slow")
[ "${RUN_SLOW:-0}" = 1 ] && MARK=()
python -m pytest "${MARK[@]}" "$@"
