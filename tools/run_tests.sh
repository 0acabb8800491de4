#!/usr/bin/env bash
# Create .venv if missing, install pjepa3d with its test requirements, run pytest.
# Slow end-to-end tests (marked `slow`) run only with RUN_SLOW=1. Extra arguments go to pytest.
set -euo pipefail
PJEPA3D_EXTRAS='[tests]'
. "$(dirname "$0")/setup_env.sh"
MARK=(-m "not slow")
[ "${RUN_SLOW:-0}" = 1 ] && MARK=()
python -m pytest "${MARK[@]}" "$@"
