"""tools/analysis_tools/visualize_mask.py: the PNG has three viewpoint panels and its colours are the masker's
draw (which target blocks exist, and what share of the cloud is target), recomputed here from the same config."""

import numpy as np
import pytest
import torch

from pjepa3d.ops import knn
from pjepa3d.visualization.mask_vis import TARGET_COLOURS
from tests.conftest import load_script

from ._utils import DEMO_CONFIG

CONTEXT = '#1f77b4'


def _tool():
    return load_script('tools/analysis_tools/visualize_mask.py')


def _pixels(img, hex_colour):
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0
    return np.abs(img - rgb).max(axis=-1) < 0.04


def _masker_draw(options, index=8, seed=0):
    """The mask the tool draws, recomputed: the config's model and dataset, seeded as the tool seeds them.
    Returns (number of target blocks, share of the cloud's points whose patch is a target)."""
    from mmengine.dataset import default_collate

    from pjepa3d.models.utils.bn_calibration import preserved_rng
    from pjepa3d.visualization.browse import build_split_dataset, load_config_and_model
    cfg, model = load_config_and_model(str(DEMO_CONFIG), options)
    points = default_collate([build_split_dataset(cfg, 'train')[index]])['inputs']['points'][..., :3].float()
    with preserved_rng(), torch.no_grad():
        torch.manual_seed(seed)
        _, centres = model.backbone.tokenizer.group(points)
        mask = model.masker(centres)
    owner = knn(points, centres, 1)[0, :, 0]
    valid = mask.target_valid if mask.target_valid is not None else torch.ones_like(mask.target_idx, dtype=bool)
    targets = set(mask.target_idx[0][valid[0]].tolist())
    share = np.mean([int(o) in targets for o in owner])
    return mask.target_idx.shape[1], share


@pytest.mark.parametrize('num_targets, ratio', [(3, 0.65), (1, 0.3)])
def test_picture_panels_and_colours_follow_the_masker(tmp_path, num_targets, ratio):
    import matplotlib.image as mpimg
    options = {'model.masker.num_targets': num_targets, 'model.masker.target_ratio': ratio,
               'model.backbone.tokenizer.num_groups': 32}
    out = tmp_path / 'mask.png'
    path = _tool().main([str(DEMO_CONFIG), '--out', str(out), '--cfg-options',
                         *(f'{k}={v}' for k, v in options.items())])
    assert path == str(out) and out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    img = mpimg.imread(str(out))[..., :3]
    height, width = img.shape[:2]
    assert width > 2.2 * height  # three square panels side by side (figure 13.5 x 4.8 in)

    blocks, share = _masker_draw(options)
    assert blocks == num_targets
    drawn = [_pixels(img, c) for c in TARGET_COLOURS]
    context = _pixels(img, CONTEXT)
    thirds = [slice(k * width // 3, (k + 1) * width // 3) for k in range(3)]
    for k in range(num_targets):  # every block's colour, in every panel
        assert all(drawn[k][:, s].sum() > 50 for s in thirds), (k, [drawn[k][:, s].sum() for s in thirds])
    assert all(context[:, s].sum() > 50 for s in thirds)
    for k in range(num_targets, len(TARGET_COLOURS)):  # no colour of a block the masker did not draw
        assert drawn[k].sum() < 20, (TARGET_COLOURS[k], drawn[k].sum())
    # the share of target-coloured pixels tracks the share of the cloud's points in target patches
    target_pixels = sum(d.sum() for d in drawn[:num_targets])
    assert abs(target_pixels / (target_pixels + context.sum()) - share) < 0.12, (target_pixels, context.sum(), share)
