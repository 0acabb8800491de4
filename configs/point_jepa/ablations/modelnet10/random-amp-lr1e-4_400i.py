# Issue 9 lever: random token masking (Point-MAE's masking; the notes' "Masking Strategy" ablation) on the adopted
# bf16 2-hour recipe, in place of the notes' region masking: 65 % of the 64 tokens drawn uniformly at random form one
# target block, the context is the rest; nothing else changes (same ratio, same iterations). Never run on ModelNet10
# before. Why: at the 2-hour budget Point-MAE, with this masking and the same encoder, data and optimiser, reads
# level with or above Point-JEPA (float32 minus Point-MAE -0.51 +- 0.46 on test, -0.58 +- 0.85 on the validation
# carve, three seeds each); the masking is the largest difference between the two pretexts besides the target.
# The notes report region masking 2-3 points above random at the authors' scale (ShapeNet, GPU); on 3,991 shapes
# and 2 CPU-hours that has not been measured. Run with benchmarks/evidence.py --keep-heap --config
# Point-JEPA=<this file> --iters 13757 --seeds 0 --methods Point-JEPA --val-every 1000; decision rule fixed before
# the run: a second seed if --val-check's "online minus random init" beats the shipped recipe's seed 0 (+2.26) and
# its validation OA online is at least that seed's (96.49), else not adopted. docs/research_log.md.
_base_ = ['./amp-lr1e-4_400i.py']
model = dict(masker=dict(_delete_=True, type='RandomMasker', target_ratio=0.65))
