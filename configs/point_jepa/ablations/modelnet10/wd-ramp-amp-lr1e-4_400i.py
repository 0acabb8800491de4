# Issue 9 lever: I-JEPA's weight-decay ramp on the adopted bf16 2-hour recipe (amp-lr1e-4_400i.py): AdamW weight
# decay 0.04 at iteration 0 rising on a cosine to 0.4 at the last iteration (I-JEPA's ViT schedule), in place of a
# constant 0.05; bias, norm and mask-token groups keep none (eta_min_ratio scales each group's own start, and theirs
# is 0). Hypothesis: a weak decay early lets the encoder leave its random init quickly, a strong one late shrinks the
# weights the predictor could use to read positions off the target, and the probe's late climb continues further.
# Run with benchmarks/evidence.py --config Point-JEPA=<this file> --iters 13757 --seeds 0 --methods Point-JEPA
# --val-every 1000 (evidence.py stretches this scheduler with the lr's: 0 -> 13,757); decided on --val-check against
# amp-lr1e-4_400i.py seed 0 (+2.26). Measured 2026-12-04 (seed 0): validation carve +0.75, not adopted; the probe
# flattens at 92.2-92.7 from iteration 7,000 (docs/research_log.md, docs/results/evidence_2h_wdramp).
_base_ = ['./amp-lr1e-4_400i.py']
optim_wrapper = dict(optimizer=dict(weight_decay=0.04))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=40),
    dict(type='CosineAnnealingLR', T_max=360, eta_min=5e-7, by_epoch=False, begin=40, end=400),
    dict(type='CosineAnnealingParamScheduler', param_name='weight_decay', eta_min_ratio=10.0, T_max=400,
         by_epoch=False, begin=0, end=400),
]
