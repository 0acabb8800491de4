"""Picture of one cloud with its context and target patches coloured (matplotlib, no display needed)."""
import numpy as np
import torch
from matplotlib.figure import Figure  # no pyplot: the user's backend is left alone

from pjepa3d.ops import knn

TARGET_COLOURS = ['#d62728', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#bcbd22']
#: (elevation, azimuth) in degrees of the three default viewpoints: front-left, front-right, top
DEFAULT_VIEWS = ((20, -60), (20, 30), (85, -90))
#: the vertical axis of each dataset's clouds (others: 'y', as ShapeNet and the synthetic shapes)
UP_AXES = dict(ModelNet10='z', NuScenesLidarPretrain='z')


@torch.no_grad()
def plot_context_targets(points, centres, mask, path, sample=0, title=None, views=DEFAULT_VIEWS, up='y'):
    """Colour every point by the patch of its nearest centre: context blue, target blocks warm colours.

    Args:
        points (Tensor): (B, N, 3). centres (Tensor): (B, M, 3).
        mask (MaskResult | None): from a masker (``RegionMasker``, ``SequenceMasker``, ``RandomMasker``);
            None draws every patch in the context colour.
        path (str): PNG to write.
        views (sequence[tuple]): (elevation, azimuth) of each panel, side by side.
        up (str): the clouds' vertical axis, ``'y'`` or ``'z'`` (:data:`UP_AXES` per dataset).
    Returns:
        str: ``path``.
    """
    pts, ctr = points[sample, :, :3], centres[sample]
    owner = knn(pts[None], ctr[None], 1)[0, :, 0].numpy()  # nearest centre per point
    role = np.full(ctr.shape[0], -2)  # -2: unused, -1: context, k: target block k
    if mask is None:  # no masker: every patch drawn as context
        role[:] = -1
    else:
        role[mask.context_idx[sample].numpy()] = -1
        valid = mask.target_valid[sample] if mask.target_valid is not None else torch.ones_like(
            mask.target_idx[sample], dtype=torch.bool)
        for k in range(mask.target_idx.shape[1]):
            role[mask.target_idx[sample, k][valid[k]].numpy()] = k
    colours = np.array(['#c7c7c7', '#1f77b4'] + TARGET_COLOURS, dtype=object)
    point_colour = colours[np.clip(role[owner] + 2, 0, len(colours) - 1)]
    order = {'y': (0, 2, 1), 'z': (0, 1, 2)}[up]  # matplotlib's 3-D axes draw their third axis upwards
    p, c = pts.numpy()[:, order], ctr.numpy()[:, order]
    fig = Figure(figsize=(4.5 * len(views), 4.8))
    for k, (elev, azim) in enumerate(views):
        ax = fig.add_subplot(1, len(views), k + 1, projection='3d')
        ax.scatter(p[:, 0], p[:, 1], p[:, 2], c=list(point_colour), s=4, depthshade=False)
        ax.scatter(c[:, 0], c[:, 1], c[:, 2], c='k', s=10, marker='x')
        ax.view_init(elev=elev, azim=azim)
        ax.set_box_aspect((1, 1, 1))
        lim = float(np.abs(p).max()) or 1.0
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), zlim=(-lim, lim))
        ax.set_axis_off()
        ax.set_title(f'elev {elev}, azim {azim}', fontsize=9)
    fig.suptitle(title or 'context (blue) and target blocks (warm colours); x = patch centres')
    fig.savefig(path, dpi=120, bbox_inches='tight')
    return path


@torch.no_grad()
def plot_dataset_sample(model, dataset, index, path, seed=0, views=DEFAULT_VIEWS, up=None):
    """Picture of ``dataset[index]`` (after its pipeline) with the patches of ``model``'s tokenizer and the
    context / target blocks its masker draws (seeded; the caller's random state is left as it was).

    Args:
        model: a pretraining model (``backbone.tokenizer`` and ``masker``) or anything with
            ``backbone.tokenizer`` (patches only).
        up (str, optional): vertical axis; default from :data:`UP_AXES` by the dataset's class name.
    Returns:
        str: ``path``.
    """
    from mmengine.dataset import default_collate

    from pjepa3d.models.utils.bn_calibration import preserved_rng

    sample = default_collate([dataset[index]])
    points = sample['inputs']['points'][..., :3].float()
    masker = getattr(model, 'masker', None)
    with preserved_rng():
        torch.manual_seed(seed)
        _, centres = model.backbone.tokenizer.group(points)
        mask = masker(centres) if masker is not None else None
    name = type(dataset).__name__
    up = up or UP_AXES.get(name, 'y')
    label = sample['data_samples'].get('label') if isinstance(sample.get('data_samples'), dict) else None
    what = f'{name}[{index}]' + (f' (label {int(label.reshape(-1)[0])})' if label is not None else '')
    if mask is None:
        title = f'{what}: {centres.shape[1]} patches'
    else:
        strategy = getattr(masker, 'mode', type(masker).__name__)
        title = (f'{what}, {strategy} masking: context (blue, {mask.context_idx.shape[1]} patches), '
                 f'{mask.target_idx.shape[1]} target block(s) (warm colours)')
    return plot_context_targets(points, centres, mask, path, title=title, views=views, up=up)
