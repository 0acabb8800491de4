# Extract the transferable backbone from a pjepa3d pretraining checkpoint.
"""Write backbone-only weights from a Point-JEPA / Point-MAE pretraining checkpoint.

    python tools/model_converters/extract_backbone.py PRETRAIN.pth OUT.pth [--prefix backbone.]

Pretraining checkpoints hold the online backbone under ``backbone.``, the EMA target under ``target.``,
plus the predictor, optimizer state and logs. OUT.pth keeps only the tensors under ``--prefix``
(``target.`` picks the EMA target), renamed to ``backbone.<name>``, so every downstream ``init_cfg``
uses ``prefix='backbone.'`` with either file, e.g. the nuScenes detector:

    --cfg-options model.pts_voxel_encoder.backbone.init_cfg.checkpoint=OUT.pth

It prints how many tensors it kept and where it wrote them, and exits with an error when the prefix
matches nothing.
"""
import argparse
import os
import os.path as osp
import sys
import time

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
import pjepa3d  # noqa: E402,F401  registers the torch.load safe globals for mmengine checkpoints
from pjepa3d.models.utils import CheckpointKeyError  # noqa: E402

OUT_PREFIX = 'backbone.'


def extract_backbone(checkpoint, prefix='backbone.'):
    """Tensors of ``checkpoint`` (path or loaded dict) under ``prefix``, renamed to ``backbone.*``.

    Returns:
        tuple: (state dict, total number of tensors in the checkpoint).
    Raises:
        CheckpointKeyError: no state dict, or nothing under ``prefix`` (names the prefixes present).
    """
    name = checkpoint if isinstance(checkpoint, str) else '<checkpoint dict>'
    if isinstance(checkpoint, str):
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
        checkpoint = torch.load(checkpoint, map_location='cpu', weights_only=True)
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or not any(torch.is_tensor(v) for v in state.values()):
        raise CheckpointKeyError(f'{name}: no state_dict of tensors found')
    if not prefix.endswith('.'):
        prefix += '.'
    kept = {OUT_PREFIX + k[len(prefix):]: v.clone() for k, v in state.items()
            if k.startswith(prefix) and torch.is_tensor(v)}
    if not kept:
        prefixes = sorted({k.split('.')[0] + '.' for k in state})
        raise CheckpointKeyError(f'{name}: no tensor under prefix {prefix!r}; the checkpoint\'s top-level '
                                 f'prefixes are {prefixes}')
    return kept, len(state)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Extract backbone-only weights from a pretraining checkpoint')
    parser.add_argument('src', help='pretraining checkpoint (e.g. work_dirs/<config>/epoch_100.pth)')
    parser.add_argument('dst', help='output file for the backbone weights')
    parser.add_argument('--prefix', default='backbone.',
                        help="which module to extract: 'backbone.' (online encoder, default) or 'target.' (EMA)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        kept, total = extract_backbone(args.src, args.prefix)
    except (FileNotFoundError, CheckpointKeyError) as err:
        sys.exit(f'extract_backbone.py: error: {err}')
    meta = dict(source=osp.abspath(args.src), source_prefix=args.prefix, num_tensors=len(kept),
                created=time.strftime('%Y-%m-%d %H:%M:%S'))
    if osp.dirname(args.dst):
        os.makedirs(osp.dirname(args.dst), exist_ok=True)
    torch.save(dict(state_dict=kept, meta=meta), args.dst)
    numel = sum(v.numel() for v in kept.values())
    print(f'kept {len(kept)} of {total} tensors under {args.prefix!r} ({numel / 1e6:.2f} M values), saved as '
          f'{OUT_PREFIX!r}* to {osp.abspath(args.dst)}')


if __name__ == '__main__':
    main()
