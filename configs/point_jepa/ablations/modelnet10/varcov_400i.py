# Issue 9 lever: the demo recipe plus C-JEPA's anti-collapse terms (VICReg's variance and covariance, weights in
# VICReg's 25 : 1 ratio) on the context encoder's features mean-pooled per cloud. Why: in the 30-minute evidence
# runs the validation features' centred rank fell from 164 to 76-90 between iterations 300 and 900, when the
# probe fell most. docs/research_log.md.
_base_ = ['../../pointjepa_vit-t_1xb32-400i_modelnet10.py']
model = dict(feat_reg=dict(type='VarianceCovarianceLoss', var_weight=1.0, cov_weight=0.04, gamma=1.0))
