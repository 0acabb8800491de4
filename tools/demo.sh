#!/usr/bin/env bash
# The main job, from nothing: install, pretrain the demo Point-JEPA (ViT-T) on ModelNet10 train shapes without
# their labels, with a linear-SVM probe on the validation carve every 100 iterations; then the ModelNet10
# linear-SVM benchmark (official 3,991 / 908 split) of the online and EMA encoders against the same encoder at
# random init with BatchNorm statistics calibrated (as many init seeds as the time budget allows, see below), a
# learning-curve PNG, a mask PNG and a t-SNE PNG of the test features (pretrained next to random init).
# ModelNet10 is looked for in $MODELNET10_ROOT, then data/ModelNet10;
# without it the demo says how to get it and falls back to the procedural SyntheticShapes demo.
# Outputs go to $WORK_DIR (default work_dirs/demo).
set -euo pipefail
BEGIN=$(date +%s)  # before the install: the budget below counts it
. "$(dirname "$0")/setup_env.sh"
WORK_DIR=${WORK_DIR:-work_dirs/demo}
# The ModelNet10 benchmark compares the pretrained encoders with the BN-calibrated random init over as many of
# INIT_SEEDS as the time budget allows (issue 9: 15 minutes, install included): the first seed always, a further
# one only while svm_eval.py expects it to end DEMO_TAIL_S seconds (the PNGs after it) before BEGIN + DEMO_BUDGET_S
# (its --deadline). DEMO_BUDGET_S=0: every seed of INIT_SEEDS, no deadline.
INIT_SEEDS=${INIT_SEEDS:-"0 1 2"}
DEMO_BUDGET_S=${DEMO_BUDGET_S:-900}
DEMO_TAIL_S=${DEMO_TAIL_S:-75}
DEADLINE=()
if [ "$DEMO_BUDGET_S" != 0 ]; then DEADLINE=(--deadline $(( BEGIN + DEMO_BUDGET_S - DEMO_TAIL_S ))); fi
START=$(date +%s)
# every Python below keeps its freed memory in glibc's heap (pjepa3d/utils/cpu_heap.py, what train.py does by
# default on a CPU): the same numbers; training steps reuse mapped pages (benchmarks/README.md: the whole demo 1.17x for 0.33 GB
# more peak RSS before the mini-PointNet ran in blocks, eabf3b6; not re-measured since); nothing is exported off
# Linux / glibc.
# PJEPA3D_KEEP_HEAP=0 leaves glibc as it is
if [ "${PJEPA3D_KEEP_HEAP:-1}" != 0 ]; then eval "$(python pjepa3d/utils/cpu_heap.py)"; fi
[ -n "${MALLOC_MMAP_MAX_:-}" ] && echo "[pjepa3d] glibc heap kept: MALLOC_MMAP_MAX_=$MALLOC_MMAP_MAX_" \
  "MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_:-} MALLOC_TOP_PAD_=${MALLOC_TOP_PAD_:-}"

MN10=""
for cand in "${MODELNET10_ROOT:-}" data/ModelNet10; do
  if [ -n "$cand" ] && [ -d "$cand/chair/train" ]; then MN10="$cand"; break; fi
done

if [ -z "$MN10" ]; then
  cat <<EOF
[pjepa3d] ModelNet10 not found (looked in \$MODELNET10_ROOT, data/ModelNet10). To run the real benchmark:
    download ModelNet10.zip from the Princeton ModelNet page (3dvision.princeton.edu, 'ModelNet10'),
    unzip it so that data/ModelNet10/<class>/{train,test}/<class>_NNNN.off exist (or set MODELNET10_ROOT),
    and run this script again (the .off meshes are sampled once and cached in ~/.cache/pjepa3d).
[pjepa3d] Running the procedural SyntheticShapes demo instead.
EOF
  CONFIG=configs/point_jepa/pointjepa_vit-t_1xb32-demo_synthetic.py
  python tools/train.py "$CONFIG" --work-dir "$WORK_DIR"
  CKPT="$(cat "$WORK_DIR/last_checkpoint")"
  python tools/analysis_tools/svm_eval.py "$CONFIG" "$CKPT" --prefix backbone. target. --init-seeds $INIT_SEEDS \
    ${DEADLINE[@]+"${DEADLINE[@]}"} \
    --num-seeds 1 --out-dir "$WORK_DIR/svm_eval"
  python tools/analysis_tools/visualize_mask.py "$CONFIG" --out "$WORK_DIR/mask.png"
  echo "[pjepa3d] demo finished in $(( $(date +%s) - START )) s (after install; $(( $(date +%s) - BEGIN )) s in all);" \
    "outputs in $WORK_DIR"
  exit 0
fi

export MODELNET10_ROOT="$MN10"
echo "[pjepa3d] ModelNet10: $MN10"
CONFIG=configs/point_jepa/pointjepa_vit-t_1xb32-400i_modelnet10.py
python tools/train.py "$CONFIG" --work-dir "$WORK_DIR"
CKPT="$(cat "$WORK_DIR/last_checkpoint")"
LOG_JSON="$(ls -t "$WORK_DIR"/2*/vis_data/2*.json | head -n 1)"

# features are deterministic (no random transform): one SVM seed; C by 5-fold CV on the train split only; the
# baseline is the BN-calibrated random init (the uncalibrated one: the benchmark config run without --baselines)
python tools/analysis_tools/svm_eval.py configs/point_jepa/benchmarks/pointjepa_vit-t-demo_modelnet10-svm.py \
  "$CKPT" --prefix backbone. target. --baselines calibrated --init-seeds $INIT_SEEDS ${DEADLINE[@]+"${DEADLINE[@]}"} \
  --num-seeds 1 --save-features --out-dir "$WORK_DIR/svm_eval"
python tools/analysis_tools/analyze_logs.py plot_curve "$LOG_JSON" --keys svm_acc svm_acc_target feat_rank loss \
  --baseline-from-first --legend "Point-JEPA ViT-T" --out "$WORK_DIR/learning_curve.png" \
  --title "ModelNet10 validation probe (dashed: iteration 0 = BN-calibrated random init)"
python tools/analysis_tools/visualize_mask.py "$CONFIG" --out "$WORK_DIR/mask.png"
python tools/analysis_tools/visualize_tsne.py configs/point_jepa/benchmarks/pointjepa_vit-t-demo_modelnet10-svm.py \
  "$CKPT" --prefix target. --features "$WORK_DIR/svm_eval/features.npz" --out "$WORK_DIR/tsne_test.png"

# 400 iterations are too few to lift the encoder above its calibrated random init (README "Issue 9's goals"); the
# shipped 2-hour config does, on test and on the validation carve, in each of its three seeds. Reprint their saved
# results (seconds; no checkpoint needed)
SAVED_CONFIG=configs/point_jepa/pointjepa_vit-t_1xb32-amp-13757i_modelnet10.py
SAVED="docs/results/evidence_2h_amp"
echo
echo "[pjepa3d] For comparison, pretraining that pays: the shipped 2-hour config"
echo "  ($SAVED_CONFIG: bfloat16 autocast, 13,757 iterations,"
echo "  2-2.4 h on 2 CPU cores with a oneDNN bfloat16 path, many times longer without one, e.g. on AVX2 only),"
echo "  three seeds trained on 2026-12-04 and saved in $SAVED*; reprinted here, not recomputed:"
python benchmarks/evidence.py --pool "$SAVED" "${SAVED}_seed1" "${SAVED}_seed2" --out-dir "$WORK_DIR/saved_2h"

echo
echo "[pjepa3d] demo finished in $(( $(date +%s) - START )) s (after install; $(( $(date +%s) - BEGIN )) s in all)." \
  "Outputs:"
echo "  checkpoint:       $CKPT"
echo "  training log:     $LOG_JSON"
echo "  SVM results:      $WORK_DIR/svm_eval/svm_eval.json (features: $WORK_DIR/svm_eval/features.npz)"
echo "  learning curve:   $WORK_DIR/learning_curve.png"
echo "  mask picture:     $WORK_DIR/mask.png"
echo "  t-SNE picture:    $WORK_DIR/tsne_test.png"
echo "  2-hour curves:    $WORK_DIR/saved_2h/evidence_pooled.png (saved results, see above)"
