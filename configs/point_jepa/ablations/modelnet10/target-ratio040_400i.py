# Issue 9 lever: the demo recipe with 40 % of the tokens as targets instead of 65 % (the context encoder sees 38
# of the 64 tokens in training instead of 22; the probe feeds it all 64). The notes put the optimum at 60-75 % at
# the authors' scale; at 400 CPU iterations an easier task may keep more of the start's features.
_base_ = ['../../pointjepa_vit-t_1xb32-400i_modelnet10.py']
model = dict(masker=dict(target_ratio=0.4))
