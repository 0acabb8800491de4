# Issue 9, strengthening the Point-MAE baseline: Point-MAE at its own published lr instead of Point-JEPA's. Point-MAE
# trains with AdamW at lr 1e-3 for batch 128; scaled linearly to our batch 32 that is 2.5e-4 (lr1e-4_400i.py, the
# comparison run so far, uses the 1e-4 that Point-JEPA's validation carve chose). Warm-up share, cosine, weight decay
# (0.05, Point-MAE's too) unchanged; benchmarks/evidence.py stretches the schedule to --iters.
# Decision rule, written before the run (seed 0, 13,142 iterations, float32, as lr1e-4_400i.py's seed 0): the
# Point-MAE baseline takes lr 2.5e-4 if `evidence.py --val-check` reads a validation OA online above lr 1e-4's 95.49
# (seed 0); a tie or less keeps 1e-4. The test split decides nothing.
# Run as in docs/modelnet10_results.md ("Point-MAE at its published lr").
# Outcome (seed 0, 2026-12-07, code of 2e9ac7b): val 95.99 (+1.75) against 95.49: adopted for the Point-MAE baseline;
# test 94.05 (+2.75; lr 1e-4: 94.27). Seed 1 (code of 09a265a): val 95.24 (lr 1e-4: 95.49), test 94.49 (+3.63;
# lr 1e-4: 93.83). Seed 2 (code of 52ee1c3): val 95.24 (lr 1e-4: 94.24), test 94.71 (+2.86; lr 1e-4: 93.50). Over
# seeds 0-2: val 95.49 against 95.07, test 94.42 +- 0.27 against 93.87 +- 0.32. The 2-hour baseline config for
# tools/train.py: ../../pointmae_vit-t_1xb32-13142i_modelnet10.py.
_base_ = ['./lr1e-4_400i.py']
optim_wrapper = dict(optimizer=dict(lr=2.5e-4))
