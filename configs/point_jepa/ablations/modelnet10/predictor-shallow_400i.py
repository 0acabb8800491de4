# Issue 9 lever: the demo recipe with a one-block predictor (96 wide) instead of 96 x 3. The opposite of
# predictor-deep_400i.py, which reached a lower loss and lost the most rank (session 7): if a stronger predictor
# lets the encoder's features become easier to predict from, a weaker one may make the encoder carry more of the
# target's content itself. docs/research_log.md.
_base_ = ['../../pointjepa_vit-t_1xb32-400i_modelnet10.py']
model = dict(head=dict(predictor=dict(depth=1)))
