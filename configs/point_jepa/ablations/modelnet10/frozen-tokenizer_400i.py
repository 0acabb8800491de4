# Issue 9 lever: the demo recipe with the mini-PointNet tokenizer frozen at its random init (lr 0; its BatchNorm
# statistics still follow the data); only the Transformer and the predictor train. docs/research_log.md.
_base_ = ['../../pointjepa_vit-t_1xb32-400i_modelnet10.py']
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'tokenizer': dict(lr_mult=0.0, decay_mult=0.0)}))
