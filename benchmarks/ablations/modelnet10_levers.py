"""Two ablation-only components behind issue 9's levers (configs/point_jepa/ablations/modelnet10/*).

Not part of the pjepa3d package: they answer "why does the validation probe fall during pretraining?" and are
kept so the rows of docs/research_log.md can be re-run. Loaded by the ablation configs through
``custom_imports=dict(imports=['benchmarks.ablations.modelnet10_levers'])`` (tools/train.py puts the repository
root on ``sys.path``).

* ``AblationPredictorWarmupHook(freeze_iters)``: the online backbone gets no gradient for the first
  ``freeze_iters`` iterations (the predictor learns against a fixed encoder first), then trains.
* ``AblationPointJEPA(target_pos='none')``: ``PointJEPA`` whose EMA target encodes the tokens without any
  positional encoding, so no part of a target is predictable from the patch centre alone.
"""
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from pjepa3d.models.algorithms.point_jepa import PointJEPA
from pjepa3d.registry import HOOKS, MODELS


@HOOKS.register_module()
class AblationPredictorWarmupHook(Hook):
    """No gradient into ``model.backbone`` while ``runner.iter < freeze_iters`` (BatchNorm statistics still
    update: the tokenizer runs in training mode); logs the switch."""

    priority = 'ABOVE_NORMAL'

    def __init__(self, freeze_iters=200):
        self.freeze_iters = int(freeze_iters)
        self.frozen = None

    def before_train_iter(self, runner, batch_idx=None, data_batch=None):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        frozen = runner.iter < self.freeze_iters
        if frozen != self.frozen:
            for p in model.backbone.parameters():
                p.requires_grad_(not frozen)
            self.frozen = frozen
            runner.logger.info(f'AblationPredictorWarmupHook: backbone frozen={frozen} at iteration {runner.iter}')


@MODELS.register_module()
class AblationPointJEPA(PointJEPA):
    """``PointJEPA`` with ``target_pos='none'``: the target encoder sees zero positional encodings."""

    def __init__(self, *args, target_pos='same', **kwargs):
        super().__init__(*args, **kwargs)
        if target_pos not in ('same', 'none'):
            raise ValueError(f"target_pos must be 'same' or 'none', got {target_pos!r}")
        self.target_pos = target_pos

    def _target_features(self, groups, tokens, pos, centres):
        if self.target_pos == 'none':
            pos = torch.zeros_like(pos)
        return super()._target_features(groups, tokens, pos, centres)
