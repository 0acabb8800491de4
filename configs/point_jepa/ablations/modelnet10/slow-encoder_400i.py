# Issue 9 lever: the online backbone (tokenizer, positional encoding, encoder) learns at a quarter of the
# predictor's lr (lr_mult 0.25; the predictor keeps 5e-5). Hypothesis: the fall of the first 1,000-2,000
# iterations is the encoder being pulled by a predictor that cannot yet predict; a slow encoder lets the
# predictor become competent first, without the hard switch of predictor-warmup200_600i.py. docs/research_log.md.
# (mmengine applies a matching custom key instead of norm_decay_mult / bias_decay_mult, so the backbone's norm and
# bias tensors get weight decay 0.05 here: at lr 1.25e-5 that is a 6e-7 shrink per step, negligible.)
_base_ = ['../../pointjepa_vit-t_1xb32-400i_modelnet10.py']
# merged into the base schedule's custom_keys (its mask_token entry stays)
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.25)}))
