# Issue 9 lever: four times the demo's peak lr (2e-4), one more doubling after lr1e-4_400i.py, which was chosen for
# the 2-hour schedule on the validation carve (three seeds: +0.75 against +0.17 points for 5e-5). Run at the 2-hour
# schedule with benchmarks/evidence.py --iters 10748 (warm-up 1,074 iterations, cosine to 1 % of the lr).
# Hypothesis: the trend 5e-5 -> 1e-4 continues while the 10 % warm-up holds the online encoder together; at 400
# iterations with a 40-iteration warm-up this lr collapsed it (docs/recipe_study.md), so a fall deeper than 1e-4's
# (probe ~87 at iteration 1,000) that does not recover by 4,000 is the failure to look for. docs/research_log.md.
# Outcome (seed 0, 2026-12-04): recovered by 3,000 but validation carve +0.00 against lr 1e-4's +1.00: not adopted
# (docs/results/evidence_2h_lr2e-4/).
_base_ = ['../../pointjepa_vit-t_1xb32-400i_modelnet10.py']
optim_wrapper = dict(optimizer=dict(lr=2e-4))
