# Issue 9 lever: targets standardised per channel over all tokens of the batch (target_norm='batch') instead of
# over the tokens of each cloud ('instance', the demo). Why: 'instance' removes every cloud's own channel means,
# which is the global shape content a class probe reads; 'batch' removes only the vector all clouds share (most
# of a LayerNorm'd target's energy) and keeps each cloud's offset from it, so predicting a target needs the
# cloud's global shape. docs/research_log.md.
_base_ = ['../../pointjepa_vit-t_1xb32-400i_modelnet10.py']
model = dict(target_norm='batch')
