"""The global feature every evaluation protocol uses: concat(max-pool, mean-pool) over the tokens."""
import torch


def max_mean_pool(tokens):
    """(B, M, D) tokens -> (B, 2D): the max over the M tokens, then their mean (the linear-SVM, k-NN and
    part-segmentation global feature, as in Point-MAE / point2vec / Point-JEPA)."""
    if tokens.dim() != 3:
        raise ValueError(f'max_mean_pool expects (B, M, D) tokens, got shape {tuple(tokens.shape)}')
    return torch.cat([tokens.amax(dim=1), tokens.mean(dim=1)], dim=-1)
