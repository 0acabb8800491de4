# Issue 9 lever: the EMA target starts slower (tau 0.998 -> 1 instead of 0.996 -> 1, cosine over the run) on the
# float32 2-hour recipe (lr1e-4_400i.py, 10,748 iterations); nothing else changes. Why: the faster side
# (ema-start099-lr1e-4_400i.py, tau 0.99) was measured at 2 hours in session 55 and lost to the control on the
# validation carve (+0.25 against +1.00); its dip was shallower but the probe never came back to its start. Point-MAE
# (no EMA target) leaves the dip by iteration 3,000, and every Point-JEPA float32 run loses 2-5 points in the first
# 1,000 iterations while the target moves fastest. point2vec and data2vec run much slower targets (0.999 and above).
# Hypothesis: a target that trails the online encoder by ~500 steps instead of ~250 stays closer to the (good,
# 91.7 on the probe) start through the lr peak and gives the predictor a steadier regression problem. Float32: this
# AVX2-only CPU has no oneDNN bfloat16 path, so the reference is lr1e-4_400i.py's seed 0. Run with
# benchmarks/evidence.py --keep-heap --config Point-JEPA=<this file> --iters 10748 --seeds 0 --methods Point-JEPA
# --val-every 1000; decision rule fixed before the run (the one ema-start099-lr1e-4_400i.py used): a second seed if
# --val-check's "online minus random init" beats lr1e-4_400i.py's seed 0 (+1.00) and its validation OA online is at
# least that seed's (95.24; same encoder, so the same start), else not adopted. docs/research_log.md.
# Outcome (seed 0, 2026-12-07): val +1.75 (95.99), test +2.09 (online): passes the rule; seed 1 next.
# Rule for seed 1, fixed before its run (2026-12-07, session 57): it holds (seed 2 next) if its --val-check
# "online minus random init" beats lr1e-4_400i.py's seed 1 (-0.25), else not adopted; adoption as the float32
# 2-hour recipe needs seed 2 as well and a three-seed mean validation gain above lr1e-4_400i.py's (+0.75 from
# +1.00 / -0.25 / +1.50).
# Outcome (seed 1, 2026-12-07): val +1.00 (94.99) against -0.25, test +2.31 (online): holds; seed 2 next.
# Outcome (seed 2, 2026-12-07): val +0.75 (93.73), test +0.22; three seeds val +1.17 +- 0.43 > +0.75: adopted as
# ../../pointjepa_vit-t_1xb32-ema0998-10748i_modelnet10.py (test, read afterwards: +1.54 +- 0.94 against +2.02 +- 0.85).
_base_ = ['./lr1e-4_400i.py']
custom_hooks = [
    dict(type='pjepa3d.EMAHook', schedule='cosine', tau_start=0.998, tau_end=1.0),
    dict(type='ProbeAtStartHook', calib_samples=512),
    dict(type='CollapseMonitorHook', key='feat_rank', source='val', min_ratio=0.3),
]
