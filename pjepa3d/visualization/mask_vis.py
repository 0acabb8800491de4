"""Picture of one cloud with its context and target patches coloured (matplotlib, no display needed)."""
import numpy as np
import torch
from matplotlib.figure import Figure  # no pyplot: the user's backend is left alone

from pjepa3d.ops import knn

TARGET_COLOURS = ['#d62728', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#bcbd22']


@torch.no_grad()
def plot_context_targets(points, centres, mask, path, sample=0, title=None):
    """Colour every point by the patch of its nearest centre: context blue, target blocks warm colours.

    Args:
        points (Tensor): (B, N, 3). centres (Tensor): (B, M, 3).
        mask (MaskResult): from a masker (``RegionMasker``, ``SequenceMasker``, ``RandomMasker``).
        path (str): PNG to write.
    Returns:
        str: ``path``.
    """
    pts, ctr = points[sample, :, :3], centres[sample]
    owner = knn(pts[None], ctr[None], 1)[0, :, 0].numpy()  # nearest centre per point
    role = np.full(ctr.shape[0], -2)  # -2: unused, -1: context, k: target block k
    role[mask.context_idx[sample].numpy()] = -1
    valid = mask.target_valid[sample] if mask.target_valid is not None else torch.ones_like(
        mask.target_idx[sample], dtype=torch.bool)
    for k in range(mask.target_idx.shape[1]):
        role[mask.target_idx[sample, k][valid[k]].numpy()] = k
    colours = np.array(['#c7c7c7', '#1f77b4'] + TARGET_COLOURS, dtype=object)
    point_colour = colours[np.clip(role[owner] + 2, 0, len(colours) - 1)]
    fig = Figure(figsize=(6, 6))
    ax = fig.add_subplot(projection='3d')
    p = pts.numpy()
    ax.scatter(p[:, 0], p[:, 2], p[:, 1], c=list(point_colour), s=4, depthshade=False)
    c = ctr.numpy()
    ax.scatter(c[:, 0], c[:, 2], c[:, 1], c='k', s=10, marker='x')
    ax.set_title(title or 'context (blue) and target blocks (warm colours); x = patch centres')
    ax.set_axis_off()
    fig.savefig(path, dpi=120, bbox_inches='tight')
    return path
