"""Fixtures of the nuScenes project tests: one tiny pretraining run on the real scans, shared."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from .nus_helpers import PRETRAIN_CONFIG, TINY_BACKBONE, nus_root, two_scan_infos, write_infos


def tiny_pretrain_cfg(shared_data, work_dir, ann_file):
    """The project's pretraining config on the real sample, shrunk for the CPU (2 scans, 4096 points)."""
    cfg = Config.fromfile(str(PRETRAIN_CONFIG))
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(dict(model=dict(backbone=copy.deepcopy(TINY_BACKBONE))))
    cfg.model.head.predictor.update(in_dims=48, embed_dims=32, depth=1, num_heads=2)
    ds = cfg.train_dataloader.dataset
    ds.data_root = str(nus_root(shared_data))
    ds.ann_file = str(ann_file)
    ds.pipeline[2].num_points = 4096
    cfg.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
    cfg.param_scheduler = []
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 1
    cfg.log_level = 'WARNING'
    return cfg


@pytest.fixture(scope='session')
def pretrain_run(shared_data, tmp_path_factory):
    """One pretraining iteration of the project's config (shrunk) with the real Runner on both real scans."""
    tmp = tmp_path_factory.mktemp('nus_pretrain')
    ann = write_infos(tmp / 'infos.pkl', two_scan_infos(shared_data))
    cfg = tiny_pretrain_cfg(shared_data, tmp / 'work', ann)
    runner = Runner.from_cfg(cfg)
    before = {k: v.clone() for k, v in runner.model.backbone.state_dict().items()}
    runner.train()
    after = runner.model.backbone.state_dict()
    changed = any(not torch.equal(before[k], after[k]) for k in before if after[k].is_floating_point())
    return dict(cfg=cfg, iters=runner.iter, loss=float(runner.message_hub.get_scalar('train/loss').current()),
                backbone_changed=changed, ckpt=osp.join(cfg.work_dir, 'epoch_1.pth'),
                backbone_keys=sorted(after), backbone_state={k: v.clone() for k, v in after.items()})
