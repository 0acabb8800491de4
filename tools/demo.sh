#!/usr/bin/env bash
# The main job, from nothing: install, pretrain the demo Point-JEPA on SyntheticShapes,
# evaluate its frozen features with a linear SVM (next to the same encoder at random init)
# and save a picture of one cloud's context / target patches.
# Outputs go to $WORK_DIR (default work_dirs/demo).
set -euo pipefail
. "$(dirname "$0")/setup_env.sh"
CONFIG=configs/point_jepa/pointjepa_vit-t_1xb32-demo_synthetic.py
WORK_DIR=${WORK_DIR:-work_dirs/demo}
MODELNET_ROOT=${MODELNET_ROOT:-../shared/data/modelnet40_subset}
START=$(date +%s)

python tools/train.py "$CONFIG" --work-dir "$WORK_DIR"
CKPT="$(cat "$WORK_DIR/last_checkpoint")"

EVAL_ARGS=(--out-dir "$WORK_DIR/svm_eval")
if [ -d "$MODELNET_ROOT" ]; then
  EVAL_ARGS+=(--modelnet40-root "$MODELNET_ROOT")
else
  echo "[pjepa3d] $MODELNET_ROOT not found: evaluating on SyntheticShapes only"
fi
python tools/analysis_tools/svm_eval.py "$CONFIG" "$CKPT" --prefix backbone. target. "${EVAL_ARGS[@]}"
python tools/analysis_tools/visualize_mask.py "$CONFIG" --out "$WORK_DIR/mask.png"

echo
echo "[pjepa3d] demo finished in $(( $(date +%s) - START )) s (after install). Outputs:"
echo "  checkpoint:       $CKPT"
echo "  training log:     $(ls -d "$WORK_DIR"/2*/ 2>/dev/null | tail -n 1)"
echo "  SVM results:      $WORK_DIR/svm_eval/svm_eval.json"
echo "  mask picture:     $WORK_DIR/mask.png"
