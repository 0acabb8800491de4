# Issue 9 lever: twice the peak lr (1e-4 instead of 5e-5; warm-up and cosine unchanged, eta_min follows the lr in
# benchmarks/evidence.py's stretched schedule). Hypothesis: at the 2-hour schedule the probe falls for ~2,000
# iterations and only passes the calibrated start after ~4 hours; if the recovery is just slow, a larger step gets
# the 4-hour gain sooner. The opposite lever (slow-encoder_400i.py, backbone lr x 0.25) fell less and ended no
# better. lr 2e-4 with a 40-iteration warm-up collapsed the online encoder at 400 iterations (docs/recipe_study.md).
# docs/research_log.md.
_base_ = ['../../pointjepa_vit-t_1xb32-400i_modelnet10.py']
optim_wrapper = dict(optimizer=dict(lr=1e-4))
