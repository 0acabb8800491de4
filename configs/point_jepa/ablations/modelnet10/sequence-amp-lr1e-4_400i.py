# Issue 9 lever: the authors' sequence masking (SPEC's authors'-code preset: the centres ordered by a greedy
# nearest-neighbour walk, 4 target blocks of 15-20 % each as contiguous runs of that order, the context a contiguous
# 40-75 % run of the rest) on the adopted bf16 2-hour recipe, in place of the notes' region masking (4 seeds grown to
# their nearest centres, 65 % targets, context = the complement). Never run on ModelNet10 before. Hypothesis: a
# smaller, contiguous context makes the prediction depend more on shape than on the neighbouring tokens, so the
# encoder keeps more class information. Run with benchmarks/evidence.py --keep-heap --config Point-JEPA=<this file>
# --iters 13757 --seeds 0 --methods Point-JEPA --val-every 1000; decision rule fixed before the run: a second seed
# if --val-check beats the region masker's seed 0 (+2.26), else not adopted. docs/research_log.md.
# Outcome (seed 0, 2026-12-05): val -0.50, test +0.55 (online): not adopted.
_base_ = ['./amp-lr1e-4_400i.py']
model = dict(masker=dict(_delete_=True, type='SequenceMasker', num_targets=4, target_block_ratio=(0.15, 0.2),
                         context_ratio=(0.4, 0.75)))
