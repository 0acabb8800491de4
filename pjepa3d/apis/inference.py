"""``init_model``, ``inference_features`` and ``FeatureExtractor``.

    from pjepa3d.apis import FeatureExtractor
    extractor = FeatureExtractor('configs/point_jepa/pointjepa_vit-t_1xb32-400i_modelnet10.py',
                                 'work_dirs/demo/iter_400.pth', prefix='target.')
    out = extractor(['chair.off', 'scan.pcd', np.random.rand(2048, 3)])
    out[0]['global'].shape, out[0]['patches'].shape, out[0]['centres'].shape   # (2D,), (M, D), (M, 3)

A cloud is prepared as the object datasets prepare theirs (:func:`prepare_cloud`): x, y, z (plus the
extra channels the tokenizer takes), centred on its mean and scaled into the unit sphere, and reduced
to ``num_points`` by farthest point sampling (deterministic: it starts at point 0) when it has more.
``global`` is the backbone's ``extract_feat``: concat(max, mean) over the final-LayerNorm patch tokens,
the feature the linear-SVM protocol (``tools/analysis_tools/svm_eval.py``) scores.
"""
import os
import os.path as osp
from pathlib import Path

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger, print_log
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import load_checkpoint

from pjepa3d.datasets.point_files import read_points
from pjepa3d.models.utils import CheckpointKeyError, load_prefixed_weights, max_mean_pool
from pjepa3d.ops.fps import furthest_point_sample
from pjepa3d.registry import MODELS
from pjepa3d.utils.checks import PointCloudError


def load_config(config, cfg_options=None):
    """A config path or ``Config`` (copied) with ``cfg_options`` merged, and its default scope initialised:
    what every tool and API entry that builds from a config starts with."""
    if isinstance(config, (str, Path)):
        config = Config.fromfile(os.fspath(config))
    elif not isinstance(config, Config):
        raise TypeError(f'config must be a path or an mmengine Config, got {type(config).__name__}')
    else:
        config = config.copy()
    if cfg_options:
        config.merge_from_dict(cfg_options)
    init_default_scope(config.get('default_scope', 'pjepa3d'))
    return config


def _drop_pretrained_init(model_cfg):
    """A checkpoint given to init_model supplies the weights: a Pretrained init_cfg would load another file."""
    for part in (model_cfg, model_cfg.get('backbone') if isinstance(model_cfg, dict) else None):
        if isinstance(part, dict) and isinstance(part.get('init_cfg'), dict) \
                and part['init_cfg'].get('type') == 'Pretrained':
            part['init_cfg'] = None


def init_model(config, checkpoint=None, device='cpu', prefix=None, strict=True, cfg_options=None):
    """Build a model from a config (and load a checkpoint), in eval mode, and report what was loaded.

    Args:
        config (str | Path | Config): the config (a pretraining, fine-tuning or benchmark config).
        checkpoint (str, optional): weights; None keeps the initialisation (``init_weights``, including a
            ``Pretrained`` init_cfg of the config).
        device (str | torch.device): where to put the model.
        prefix (str, optional): None builds the whole ``config.model``. A prefix builds only
            ``config.model.backbone`` and loads the checkpoint's tensors under that prefix into it:
            ``'backbone.'`` (the online encoder of a pretraining / fine-tuning checkpoint) or ``'target.'``
            (Point-JEPA's EMA target encoder).
        strict (bool): refuse a checkpoint that leaves a tensor of the model unloaded or holds tensors the
            model does not have (``CheckpointKeyError`` / ``RuntimeError`` listing them).
        cfg_options (dict, optional): overrides merged into the config first.
    Returns:
        nn.Module: the model (or backbone) in eval mode on ``device``; ``model.cfg`` is the config.
    """
    cfg = load_config(config, cfg_options)
    logger = MMLogger.get_current_instance()
    model_cfg = cfg.model.copy()
    if prefix is not None:
        model_cfg = model_cfg.backbone.copy()
    if checkpoint is not None:
        _drop_pretrained_init(model_cfg)
    model = MODELS.build(model_cfg)
    if checkpoint is None:
        model.init_weights()
    else:  # every tensor comes from the checkpoint (a strict load checks it)
        if prefix is None:
            load_checkpoint(model, checkpoint, map_location='cpu', strict=strict, logger=logger)
            print_log(f'init_model: loaded {checkpoint} into {type(model).__name__} (strict={strict})', logger)
        else:
            report = load_prefixed_weights(model, checkpoint, prefix=prefix)
            print_log(report['report'], logger)
            if strict and (report['missing'] or report['unexpected']):
                raise CheckpointKeyError(
                    f'{checkpoint}: with prefix {prefix!r}, {len(report["missing"])} tensor(s) of the backbone were '
                    f'not in the checkpoint {report["missing"][:8]} and {len(report["unexpected"])} were extra or of '
                    f'another shape {report["unexpected"][:8]}; pass strict=False to accept a partial load')
    model.cfg = cfg
    return model.to(device).eval()


def _backbone(model):
    """The feature backbone of ``model``: itself when it has ``tokenizer`` / ``encoder``, else ``model.backbone``."""
    if hasattr(model, 'tokenizer') and hasattr(model, 'extract_feat'):
        return model
    backbone = getattr(model, 'backbone', None)
    if backbone is None or not hasattr(backbone, 'extract_feat'):
        raise TypeError(f'{type(model).__name__} has no point backbone (need .extract_feat, or .backbone with it)')
    return backbone


def prepare_cloud(points, num_points=1024, in_channels=3, normalize=True, source='points'):
    """(N, C) array / tensor -> float32 tensor (min(N, num_points), in_channels) as the object datasets give it.

    Keeps the first ``in_channels`` columns; with ``normalize`` centres x, y, z on their mean and scales
    the farthest point to distance 1 (extra channels untouched); then, when N > ``num_points``, keeps the
    ``num_points`` points picked by farthest point sampling from point 0 (deterministic).
    """
    pts = torch.as_tensor(np.asarray(points) if not isinstance(points, torch.Tensor) else points)
    pts = pts.detach().to(torch.float32).cpu()
    if pts.ndim != 2 or pts.shape[1] < in_channels:
        raise PointCloudError(f'{source}: expected (N, >= {in_channels}) points for a tokenizer with '
                              f'in_channels={in_channels}, got shape {tuple(pts.shape)}')
    pts = pts[:, :in_channels].clone()
    if not len(pts):
        raise PointCloudError(f'{source}: the point cloud is empty')
    if not torch.isfinite(pts[:, :3]).all():
        raise PointCloudError(f'{source}: NaN or inf coordinates')
    if normalize:
        xyz = pts[:, :3] - pts[:, :3].mean(dim=0)
        radius = xyz.norm(dim=1).max()
        pts[:, :3] = xyz / radius if radius > 0 else xyz
    if num_points is not None and len(pts) > num_points:
        idx = furthest_point_sample(pts[None, :, :3], num_points)[0]
        pts = pts[idx]
    return pts


@torch.no_grad()
def inference_features(model, clouds, num_points=1024, normalize=True, batch_size=32, bin_dims=None, seed=0,
                       progress=False):
    """Global and per-patch features of point clouds.

    Args:
        model (nn.Module): a backbone, or any model with ``.backbone`` (from :func:`init_model`).
        clouds: one cloud or a list of them; a cloud is an (N, C) array / tensor, a (B, N, C) batch, or a
            path to a point file (:func:`~pjepa3d.datasets.point_files.read_points`: ``.pcd``, ``.ply``,
            ``.off`` / ``.obj`` / ``.stl`` meshes, ``.npy`` / ``.npz``, ``.txt`` / ``.xyz`` / ``.csv``,
            KITTI / nuScenes ``.bin``).
        num_points (int): points per cloud after preparation (mesh samples; FPS above it).
        normalize (bool): centre and scale into the unit sphere (as the object datasets do).
        batch_size (int): clouds per forward pass (clouds of equal size are batched together).
        bin_dims (int, optional): values per point of ``.bin`` scans (default: guessed, see ``read_points``).
        seed (int): mesh sampling seed.
        progress (bool): show a tqdm progress bar.
    Returns:
        list[dict]: one per cloud, in input order: ``global`` (2D,), ``patches`` (M, D) final-LN tokens,
        ``centres`` (M, 3) patch centres (in the prepared cloud's frame), numpy float32.
    """
    backbone = _backbone(model)
    in_channels = getattr(backbone.tokenizer, 'in_channels', 3)
    items = clouds if isinstance(clouds, (list, tuple)) else [clouds]
    prepared = []
    for i, item in enumerate(items):
        if isinstance(item, (str, os.PathLike)):
            prepared.append(prepare_cloud(read_points(item, num_points=num_points, seed=seed, bin_dims=bin_dims),
                                          num_points, in_channels, normalize, source=os.fspath(item)))
            continue
        arr = item if isinstance(item, torch.Tensor) else np.asarray(item)
        batch = arr if arr.ndim == 3 else arr[None]
        for j in range(len(batch)):
            prepared.append(prepare_cloud(batch[j], num_points, in_channels, normalize,
                                          source=f'input {i}' + (f' (cloud {j})' if arr.ndim == 3 else '')))
    device = next(backbone.parameters()).device
    backbone.eval()
    results = [None] * len(prepared)
    order = sorted(range(len(prepared)), key=lambda k: len(prepared[k]))
    chunks = []
    for k in order:  # clouds of one size, at most batch_size per pass
        if chunks and len(prepared[chunks[-1][0]]) == len(prepared[k]) and len(chunks[-1]) < batch_size:
            chunks[-1].append(k)
        else:
            chunks.append([k])
    if progress:
        from tqdm import tqdm
        chunks = tqdm(chunks, desc='features', unit='batch')
    for chunk in chunks:
        points = torch.stack([prepared[k] for k in chunk]).to(device)
        tokens, centres, _ = backbone(points)
        glob = max_mean_pool(tokens)
        for n, k in enumerate(chunk):
            results[k] = {'global': glob[n].float().cpu().numpy(), 'patches': tokens[n].float().cpu().numpy(),
                          'centres': centres[n].float().cpu().numpy()}
    return results


class FeatureExtractor:
    """Inferencer-style feature extraction (as mmpretrain's ``FeatureExtractor``).

    Args:
        model (str | Path | Config | nn.Module): a config (built with :func:`init_model`) or a built model.
        pretrained (str, optional): checkpoint for a config.
        prefix (str): which encoder of the checkpoint: ``'backbone.'`` (online) or ``'target.'`` (EMA).
        device (str): e.g. ``'cpu'``, ``'cuda'``.
        strict (bool): refuse partial checkpoint loads (:func:`init_model`).
        num_points, normalize, batch_size, bin_dims, seed: as :func:`inference_features`.
    Call with one cloud or a list (arrays, tensors, file paths); returns a list of dicts (``global``,
    ``patches``, ``centres``).
    """

    def __init__(self, model, pretrained=None, prefix='backbone.', device='cpu', strict=True, num_points=1024,
                 normalize=True, batch_size=32, bin_dims=None, seed=0, cfg_options=None):
        if isinstance(model, torch.nn.Module):
            self.model = model.to(device).eval()
        else:
            self.model = init_model(model, pretrained, device=device, prefix=prefix, strict=strict,
                                    cfg_options=cfg_options)
        self.kwargs = dict(num_points=num_points, normalize=normalize, batch_size=batch_size, bin_dims=bin_dims,
                           seed=seed)

    def __call__(self, inputs, progress=False):
        return inference_features(self.model, inputs, progress=progress, **self.kwargs)


def list_point_files(paths):
    """Files named by ``paths`` (files as given; folders searched recursively for point-file suffixes, sorted)."""
    from pjepa3d.datasets.point_files import POINT_FILE_SUFFIXES
    files = []
    for p in paths:
        p = os.fspath(p)
        if osp.isdir(p):
            found = sorted(str(f) for f in Path(p).rglob('*') if f.suffix.lower() in POINT_FILE_SUFFIXES)
            if not found:
                raise FileNotFoundError(f'{p}: no point file ({", ".join(POINT_FILE_SUFFIXES)}) in this folder')
            files.extend(found)
        elif osp.isfile(p):
            files.append(p)
        else:
            raise FileNotFoundError(f'no such file or folder: {p}')
    return files
