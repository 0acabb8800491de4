"""FreezeBackboneHook(freeze_iters=N) in a real mmengine Runner: the backbone is frozen (no gradient, eval mode,
no tensor changes, BatchNorm statistics included) for exactly the first N iterations, then trains."""
import copy

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

import pjepa3d  # noqa: F401
from pjepa3d.engine.hooks.freeze_backbone_hook import FreezeBackboneHook

CLASSIFIER = dict(
    type='PointClassifier',
    backbone=dict(
        type='PointPatchTransformer',
        tokenizer=dict(type='PointPatchTokenizer', num_groups=8, group_size=8, embed_dims=32,
                       hidden_dims=(16, 32, 64)),
        pos_embed='sincos3d',
        encoder=dict(type='PointTransformerEncoder', embed_dims=32, depth=2, num_heads=2, drop_path_rate=0.1)),
    head=dict(type='LinearClsHead', in_channels=64, num_classes=3))


class _Record(Hook):
    """Per iteration: the backbone's state as the step starts (after FreezeBackboneHook) and its tensors after."""

    priority = 'LOWEST'

    def __init__(self):
        self.start, self.after = [], []

    @staticmethod
    def _tensors(runner, prefix):
        return {k: v.detach().clone() for k, v in runner.model.state_dict().items() if k.startswith(prefix)}

    def before_train(self, runner):
        self.initial = self._tensors(runner, 'backbone.')

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        bb = runner.model.backbone
        self.start.append(dict(iter=runner.iter, requires_grad={p.requires_grad for p in bb.parameters()},
                               training={m.training for m in bb.modules()}, flag=runner.model.backbone_frozen))

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.after.append((self._tensors(runner, 'backbone.'), self._tensors(runner, 'head.')))


def _runner(work_dir, freeze_iters, max_iters=4):
    cfg = dict(
        default_scope='pjepa3d', work_dir=str(work_dir), model=copy.deepcopy(CLASSIFIER),
        train_dataloader=dict(
            batch_size=4, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
            # 5 batches for 4 iterations: the loader never restarts (mmengine sleeps 2 s when it does)
            dataset=dict(type='SyntheticShapes', split='train', num_samples=20, num_points=64,
                         classes=['ellipsoid', 'box', 'cylinder'], pipeline=[dict(type='PackPointInputs')])),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-2, weight_decay=0.05)),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1),
                           checkpoint=dict(type='CheckpointHook', interval=100)),
        custom_hooks=[dict(type='FreezeBackboneHook', freeze_iters=freeze_iters)],
        randomness=dict(seed=0), log_level='WARNING')
    runner = Runner.from_cfg(cfg)
    record = _Record()
    runner.register_hook(record)
    return runner, record


def _moved(a, b):
    return [k for k in a if a[k].is_floating_point() and not torch.equal(a[k], b[k])]


def test_backbone_frozen_for_exactly_freeze_iters_then_trained(tmp_path):
    runner, record = _runner(tmp_path, freeze_iters=2)
    runner.train()
    assert [s['iter'] for s in record.start] == [0, 1, 2, 3]
    frozen = [dict(requires_grad={False}, training={False}, flag=True)] * 2
    trained = [dict(requires_grad={True}, training={True}, flag=False)] * 2
    assert [{k: v for k, v in s.items() if k != 'iter'} for s in record.start] == frozen + trained
    states = [record.initial] + [bb for bb, _ in record.after]
    heads = [head for _, head in record.after]
    # iterations 1 and 2 (0 and 1 counted from 0): no backbone tensor changes, BatchNorm statistics included,
    # weight decay included (AdamW skips parameters without a gradient); the head trains
    for i in (0, 1):
        assert not _moved(states[i + 1], states[i]), i
    assert _moved(heads[1], heads[0])
    # iterations 3 and 4: almost every backbone tensor moves at each step (parameters and BN statistics)
    params = {f'backbone.{k}' for k, _ in runner.model.backbone.named_parameters()}
    for i in (2, 3):
        moved = set(_moved(states[i + 1], states[i]))
        assert len(moved & params) >= 0.9 * len(params), i
        assert 'backbone.tokenizer.embed.bn1.running_mean' in moved


def test_freeze_iters_zero_trains_the_backbone_from_the_first_iteration(tmp_path):
    runner, record = _runner(tmp_path, freeze_iters=0, max_iters=1)
    runner.train()
    assert record.start[0]['requires_grad'] == {True} and record.start[0]['flag'] is False
    assert _moved(record.after[0][0], record.initial)


def test_freeze_hook_arguments_are_checked():
    with pytest.raises(ValueError, match='exactly one of freeze_epochs and freeze_iters'):
        FreezeBackboneHook()
    with pytest.raises(ValueError, match='exactly one of freeze_epochs and freeze_iters'):
        FreezeBackboneHook(freeze_epochs=1, freeze_iters=1)
    with pytest.raises(ValueError, match='must be >= 0, got -1'):
        FreezeBackboneHook(freeze_iters=-1)
