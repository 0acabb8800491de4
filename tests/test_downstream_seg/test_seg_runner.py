"""The shipped ShapeNetPart config, shrunk to a tiny model, on the real Cap sample: mmengine's Runner
(train + val with best-checkpoint selection, then test), and tools/train.py + tools/test.py end to end."""
import json
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner, save_checkpoint

from pjepa3d.models.utils import CheckpointKeyError
from pjepa3d.registry import MODELS
from tests.conftest import load_script

from .conftest import SEG_CONFIG, shrink_pipelines, tiny_seg_cfg_options


def test_config_builds_the_full_size_model():
    cfg = Config.fromfile(SEG_CONFIG)
    assert cfg.model.feature_blocks == (4, 8, 12)
    assert cfg.model.backbone.init_cfg == dict(type='Pretrained', checkpoint='', prefix='backbone.')
    assert cfg.model.backbone.tokenizer.num_groups == 128
    assert cfg.train_dataloader.dataset.split == 'train' and cfg.val_dataloader.dataset.split == 'val'
    assert cfg.test_dataloader.dataset.split == 'test'
    assert cfg.default_hooks.checkpoint.save_best == 'partseg/class_mIoU'
    assert [t for t in cfg.train_dataloader.dataset.pipeline if t.type == 'pjepa3d.PointSample'][0].num_points == 2048
    model = MODELS.build(cfg.model)
    assert model.head.cls_mlp[-1].out_channels == 50
    assert sum(p.numel() for p in model.backbone.parameters()) > 20e6  # ViT-S size


def test_runner_trains_validates_and_tests_on_the_cap_sample(shapenetpart_root, tmp_path):
    cfg = Config.fromfile(SEG_CONFIG)
    cfg.merge_from_dict(tiny_seg_cfg_options(shapenetpart_root, tmp_path / 'wd', max_epochs=3))
    shrink_pipelines(cfg, 128)
    runner = Runner.from_cfg(cfg)
    runner.train()
    best = sorted((tmp_path / 'wd').glob('best_partseg_class_mIoU_epoch_*.pth'))
    assert len(best) == 1, list((tmp_path / 'wd').iterdir())
    assert (tmp_path / 'wd' / 'epoch_3.pth').is_file()
    metrics = runner.test()
    assert metrics['partseg/num_shapes'] == 11  # the whole test list, evaluated once
    for key in ('partseg/class_mIoU', 'partseg/instance_mIoU', 'partseg/Cap_mIoU'):
        assert 0 <= metrics[key] <= 100
    assert metrics['partseg/class_mIoU'] == pytest.approx(metrics['partseg/instance_mIoU'])  # one category
    # the train loss went down over the 3 epochs (5 shapes, batch 4: one step per epoch)
    log = next((tmp_path / 'wd').glob('*/vis_data/scalars.json'))
    losses = [json.loads(line)['loss'] for line in log.read_text().splitlines() if '"loss"' in line]
    assert len(losses) == 3 and all(torch.isfinite(torch.tensor(losses)))
    # TestBestAndLastHook evaluated the test split after training with the last and the best-on-val weights
    report = json.loads((tmp_path / 'wd' / 'test_last_and_best.json').read_text())
    assert set(report) == {'last', 'best'}
    assert report['best']['checkpoint'] == str(best[0])
    for r in report.values():
        assert r['metrics']['partseg/num_shapes'] == 11


def _tool(name):
    """tools/<name>.py as a module (its ``main(argv)`` runs in this process: no interpreter start-up)."""
    return load_script(f'tools/{name}.py')


TINY_CLI = [
    'model.backbone.tokenizer.num_groups=16', 'model.backbone.tokenizer.group_size=8',
    'model.backbone.tokenizer.embed_dims=32', 'model.backbone.tokenizer.hidden_dims=[16,32,64]',
    'model.backbone.encoder.embed_dims=32', 'model.backbone.encoder.depth=2', 'model.backbone.encoder.num_heads=2',
    'model.backbone.encoder.drop_path_rate=0.0', 'model.feature_blocks=[1,2]', 'model.head.label_embed_dims=8',
    'model.head.prop_channels=[32]', 'model.head.channels=[64,32]', 'param_scheduler=[]',
    'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1', 'log_level=INFO',
] + [f'{s}_dataloader.{k}' for s in ('train', 'val', 'test')
     for k in ('num_workers=0', 'persistent_workers=False', 'batch_size=4', 'dataset.pipeline.0.num_points=128')]


def test_tools_train_with_pretrained_backbone_then_test(shapenetpart_root, tmp_path, tiny_model_cfg, capsys):
    # a real (tiny) Point-JEPA pretraining checkpoint
    torch.manual_seed(7)
    pre = MODELS.build(tiny_model_cfg)
    pre.init_weights()
    ckpt = tmp_path / 'pretrain.pth'
    save_checkpoint(dict(state_dict=pre.state_dict(), meta=dict(epoch=1)), str(ckpt))
    data = [f'{s}_dataloader.dataset.data_root={shapenetpart_root}' for s in ('train', 'val', 'test')]
    work_dir = tmp_path / 'wd'

    _tool('train').main([str(SEG_CONFIG), '--work-dir', str(work_dir), '--cfg-options', *TINY_CLI, *data,
                         f'model.backbone.init_cfg.checkpoint={ckpt}'])
    log = next(work_dir.glob('*/*.log')).read_text()
    n = len(pre.backbone.state_dict())
    assert re.search(rf"pretrain\.pth: loaded {n}/{n} tensors with prefix 'backbone\.'", log), log[-3000:]
    best = next(work_dir.glob('best_partseg_class_mIoU_epoch_*.pth'))
    # fine-tuning started from the pretrained encoder: one AdamW step of lr 2e-4 later it is still close
    seg = torch.load(best, map_location='cpu', weights_only=False)['state_dict']
    key = 'backbone.encoder.blocks.0.attn.qkv.weight'
    assert key in seg
    assert (seg[key] - pre.state_dict()[key]).abs().max() < 1e-2
    assert (seg[key] - pre.state_dict()[key]).abs().max() > 0  # and it was trained

    capsys.readouterr()
    _tool('test').main([str(SEG_CONFIG), str(best), '--work-dir', str(tmp_path / 'test'), '--cfg-options',
                        *TINY_CLI, *data])
    out = capsys.readouterr().out
    assert "'partseg/num_shapes': 11" in out and 'partseg/instance_mIoU' in out, out[-2000:]

    # a wrong prefix stops training with a clear error instead of a silent random init
    with pytest.raises(CheckpointKeyError, match=r"prefix 'encoder\.' matches none"):
        _tool('train').main([str(SEG_CONFIG), '--work-dir', str(tmp_path / 'bad'), '--cfg-options', *TINY_CLI,
                             *data, f'model.backbone.init_cfg.checkpoint={ckpt}',
                             'model.backbone.init_cfg.prefix=encoder.'])
    assert not list((tmp_path / 'bad').glob('*.pth'))  # nothing trained
