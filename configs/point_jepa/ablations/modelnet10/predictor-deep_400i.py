# Issue 9 lever: the demo recipe with the authors' predictor depth (6 blocks) at the encoder's width (192),
# instead of 96 x 3. Hypothesis (I-JEPA's predictor-depth ablation): a predictor with more capacity absorbs the
# pretext-specific computation, so the encoder's last blocks stay general. docs/research_log.md.
_base_ = ['../../pointjepa_vit-t_1xb32-400i_modelnet10.py']
model = dict(head=dict(predictor=dict(in_dims=192, embed_dims=192, depth=6, num_heads=3)))
