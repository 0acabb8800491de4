# Issue 9 lever: Gaussian noise (std 0.05 per axis, unit-sphere units: a mean displacement of about 0.08, 0.4 of
# the median 0.21 between neighbouring patch centres of a ModelNet10 cloud's 64 FPS centres, measured on 256
# train-part clouds) on the predictor's target-query centres in training.
# Hypothesis: the instance-normalised targets still carry what the exact position of a patch predicts; with
# the query position blurred the predictor must lean on the context features, so the encoder is pushed towards
# content rather than towards being easy to predict from position. docs/research_log.md.
_base_ = ['../../pointjepa_vit-t_1xb32-400i_modelnet10.py']
model = dict(head=dict(predictor=dict(query_noise=0.05)))
