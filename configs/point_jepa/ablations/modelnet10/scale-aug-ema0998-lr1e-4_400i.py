# Issue 9 lever: more varied data at the 2-hour schedule, on the adopted float32 2-hour recipe
# (ema-start0998-lr1e-4_400i.py, 10,748 iterations): every pretraining cloud is scaled per axis by factors drawn
# from [2/3, 3/2] each time it is read (RandomScale, the range of Point-MAE's scale-and-translate and of our
# fine-tuning pipeline); nothing else changes. Why: each of the 3,592 train-part shapes is seen about 95 times
# in 10,748 iterations of batch 32, and the probe flattens from about 6,000 iterations; augment_400i.py
# (lr 5e-5, tau 0.996) added rotation about z and jitter as well and lost 0.5 on the validation carve, so this
# keeps the one augmentation that leaves the shapes upright and their surfaces clean. Float32, for the reason
# in ema-start0998-lr1e-4_400i.py. Run with benchmarks/evidence.py --keep-heap --config Point-JEPA=<this file>
# --iters 10748 --seeds 0 --methods Point-JEPA --val-every 1000.
# Decision rule, fixed before the run (2026-12-08, session 59): the reference R is ema-start0998-lr1e-4_400i.py
# (adopted). A second seed if --val-check's "online minus random init" on seed 0 is at least R's seed 0 (+1.75;
# same encoder, same starting weights, same random-init baseline), else not adopted; adoption needs three seeds
# and a mean validation gain above R's three-seed mean (+1.17). docs/research_log.md.
# Its curve's iteration-0 probe calibrates BatchNorm on the scaled training clouds (ProbeAtStartHook reads the
# training loader): 90.73 on seed 0 against 91.73 for the unscaled runs. --val-check's and the test's random-init
# baselines calibrate on unscaled train-part clouds (evidence.py's calibrated_copy), so they are R's.
# Outcome (seed 0, 2026-12-08): val +1.75 (95.99), equal to R's seed 0, which the rule counts as a pass; test +2.53
# (online, 93.83; R's seed 0: +2.09): seed 1 next.
# Rule for seed 1, fixed when only its iteration-0 probe had printed (2026-12-08, session 60): it holds if its
# --val-check "online minus random init" is at least R's seed 1 (+1.00), else not adopted; adoption still needs
# seed 2 and a three-seed mean validation gain above R's (+1.17 from +1.75 / +1.00 / +0.75).
# Outcome (seed 1, 2026-12-08, session 61): val +2.01 (95.99; R's seed 1: +1.00): holds; test +2.64 (online, 93.50;
# R's seed 1: +2.31). Seed 2 next, started at deb1716; the rule above, fixed before seeds 1 and 2 ran, stays: adopted
# if the three-seed mean validation gain is above +1.17, i.e. if seed 2 reads above -0.25 (+0.00 or more: one of
# the 399 validation shapes is 0.25 points); its gain is also set beside R's seed 2 (+0.75) in the record.
_base_ = ['./ema-start0998-lr1e-4_400i.py']
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='RandomScale', scale_range=(2 / 3, 3 / 2)),
    dict(type='PackPointInputs'),
]))
