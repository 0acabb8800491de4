# Issue 9 lever: the EMA target starts slower still (tau 0.999 -> 1 instead of 0.996 -> 1, cosine over the run) on
# the float32 2-hour recipe (lr1e-4_400i.py, 10,748 iterations); nothing else changes. Why: tau 0.99 lost to the
# control on the validation carve (+0.25 against +1.00, seed 0), tau 0.998 led it on seeds 0 and 1 (+1.75 / +1.00
# against +1.00 / -0.25; ema-start0998-lr1e-4_400i.py), so the slower side is the one that helps and its end is not
# known. point2vec and data2vec run targets from 0.999 and above. Hypothesis: a target that trails the online
# encoder by ~1,000 steps keeps the predictor's regression problem steadier still through the lr peak; the risk is a
# target that barely leaves the random-init encoder during the first few thousand steps. Float32, for the reason in
# ema-start0998-lr1e-4_400i.py (no oneDNN bfloat16 path on this CPU). Run with benchmarks/evidence.py --keep-heap
# --config Point-JEPA=<this file> --iters 10748 --seeds 0 --methods Point-JEPA --val-every 1000.
# Decision rule, fixed before this run and before tau 0.998's seed 2 was read (2026-12-07, session 58): the
# reference R is ema-start0998-lr1e-4_400i.py if that lever is adopted after its third seed, else lr1e-4_400i.py.
# A second seed if --val-check's "online minus random init" on seed 0 is at least R's seed 0 (+1.75 for tau 0.998,
# +1.00 for tau 0.996; the same encoder starts from the same weights, so the same random-init baseline), else not
# adopted; adoption needs three seeds and a mean validation gain above R's three-seed mean. docs/research_log.md.
# Outcome (seed 0, 2026-12-08): R is tau 0.998 (adopted). val +0.00 (94.24) against +1.75, test +1.10 (online, 92.40):
# not adopted. docs/modelnet10_results.md, "The still slower EMA target (tau 0.999 -> 1)".
_base_ = ['./lr1e-4_400i.py']
custom_hooks = [
    dict(type='pjepa3d.EMAHook', schedule='cosine', tau_start=0.999, tau_end=1.0),
    dict(type='ProbeAtStartHook', calib_samples=512),
    dict(type='CollapseMonitorHook', key='feat_rank', source='val', min_ratio=0.3),
]
