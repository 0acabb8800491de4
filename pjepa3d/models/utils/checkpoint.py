"""Load the backbone part of a checkpoint and say exactly what matched."""
from mmengine.runner import CheckpointLoader


class CheckpointKeyError(KeyError):
    """A checkpoint that would load nothing (wrong prefix, wrong file) or lacks a required key."""

    def __str__(self):  # KeyError quotes its message; keep it readable
        return str(self.args[0])


def load_prefixed_weights(module, checkpoint, prefix='backbone.', logger=None):
    """Load ``checkpoint``'s tensors under ``prefix`` into ``module`` (non-strict) and report.

    Args:
        module (nn.Module): e.g. a ``PointPatchTransformer``.
        checkpoint (str | dict): a path or an already loaded checkpoint.
        prefix (str): key prefix to select and strip ('' for a bare state dict).
    Returns:
        dict: ``loaded``, ``missing`` and ``unexpected`` key lists.
    Raises:
        CheckpointKeyError: no ``state_dict`` in the file, or no key of ``module`` matched.
    """
    name = checkpoint if isinstance(checkpoint, str) else '<checkpoint dict>'
    ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu') if isinstance(checkpoint, str) \
        else checkpoint
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise CheckpointKeyError(f'{name}: no state_dict found (top-level keys: {list(ckpt)[:10]})')
    selected = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    own = module.state_dict()
    loaded = sorted(k for k in selected if k in own and own[k].shape == selected[k].shape)
    if not loaded:
        prefixes = sorted({k.split('.')[0] + '.' for k in state})
        raise CheckpointKeyError(f"{name}: prefix {prefix!r} matches none of the {len(own)} tensors of "
                                 f"{type(module).__name__}; the checkpoint's top-level prefixes are {prefixes}")
    bad_shape = sorted(k for k in selected if k in own and own[k].shape != selected[k].shape)
    missing = sorted(set(own) - set(loaded))
    unexpected = sorted(set(selected) - set(own)) + bad_shape
    module.load_state_dict({k: selected[k] for k in loaded}, strict=False)
    report = f'{name}: loaded {len(loaded)}/{len(own)} tensors with prefix {prefix!r}'
    if missing:
        report += f'; MISSING {len(missing)}: {missing[:8]}{" ..." if len(missing) > 8 else ""}'
    if unexpected:
        report += f'; UNEXPECTED or wrong shape {len(unexpected)}: {unexpected[:8]}'
    if logger is not None:
        logger.warning(report) if (missing or unexpected) else logger.info(report)
    return dict(loaded=loaded, missing=missing, unexpected=unexpected, report=report)
