# Issue 9 lever: the EMA target encodes the tokens without positional encoding (nothing in a target is
# predictable from the patch centre alone); the context encoder and predictor keep theirs. docs/research_log.md.
_base_ = ['../../pointjepa_vit-t_1xb32-400i_modelnet10.py']
custom_imports = dict(imports=['benchmarks.ablations.modelnet10_levers'], allow_failed_imports=False)
model = dict(type='AblationPointJEPA', target_pos='none')
