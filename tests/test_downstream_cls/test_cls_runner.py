"""The shipped fine-tune / linear-probe configs on the real ModelNet40 subset with the real Runner."""
import glob
import json

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from pjepa3d.models.utils import CheckpointKeyError
from pjepa3d.registry import DATASETS, MODELS
from .conftest import TINY_BACKBONE, load_tool, save_pretrain_checkpoint, write_tiny_cfg

FT = 'pointjepa_vit-t-demo_1xb16-20e_ft_modelnet40subset.py'
LP = 'pointjepa_vit-t-demo_1xb16-40e_modelnet40subset-linear-probe.py'


class Snapshots(Hook):
    """Copies of the model's tensors at the start of training and after every epoch."""

    priority = 'LOWEST'

    def __init__(self):
        self.states = {}

    def _take(self, runner, name):
        self.states[name] = {k: v.detach().clone() for k, v in runner.model.state_dict().items()}

    def before_train(self, runner):
        self._take(runner, 'start')

    def after_train_epoch(self, runner):
        self._take(runner, f'epoch{runner.epoch + 1}')  # epoch counter moves on after this hook


def _part(state, prefix):
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def _params(state, names):
    return {k: v for k, v in state.items() if k in names}


def accuracy_by_hand(cfg, state, num_votes):
    """(overall, mean-class) test accuracy in % of a classifier holding ``state``, counted here."""
    import numpy as np
    from mmengine.dataset import default_collate
    init_default_scope('pjepa3d')
    model = MODELS.build(dict(cfg.model, backbone=dict(cfg.model.backbone, init_cfg=None)))
    model.load_state_dict(state)
    model.eval()
    model.num_votes = num_votes
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    size = cfg.test_dataloader.batch_size
    pred, gt = [], []
    for start in range(0, len(dataset), size):
        batch = default_collate([dataset[i] for i in range(start, min(start + size, len(dataset)))])
        pred += [int(o['pred_label']) for o in model.predict(batch['inputs'], batch['data_samples'])]
        gt += batch['data_samples']['label'].tolist()
    pred, gt = np.array(pred), np.array(gt)
    assert len(gt) == len(dataset) > 0
    return 100.0 * (pred == gt).mean(), 100.0 * np.mean([(pred[gt == c] == c).mean() for c in np.unique(gt)])


def test_finetune_loads_freezes_unfreezes_and_reports_last_and_best(modelnet_subset, tmp_path, capsys):
    ckpt = tmp_path / 'pretrain.pth'
    pretrained = save_pretrain_checkpoint(ckpt, TINY_BACKBONE)
    cfg_path = write_tiny_cfg(tmp_path / 'ft.py', FT, modelnet_subset, max_epochs=2, freeze_epochs=1, checkpoint=ckpt)
    cfg = Config.fromfile(cfg_path)
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    snaps = Snapshots()
    runner.register_hook(snaps)
    runner.train()

    start, ep1, ep2 = (snaps.states[k] for k in ('start', 'epoch1', 'epoch2'))
    loaded = _part(start, 'backbone.')
    assert loaded.keys() == pretrained.keys()
    for k, v in pretrained.items():  # the pretraining checkpoint's tensors, with the right prefix
        assert torch.equal(loaded[k], v), k
    param_names = {k for k, _ in runner.model.backbone.named_parameters()}
    for k in loaded:  # frozen phase (epoch 1): nothing of the backbone moves, BN statistics included
        assert torch.equal(_part(ep1, 'backbone.')[k], loaded[k]), k
    assert any(not torch.equal(_part(ep1, 'head.')[k], v) for k, v in _part(start, 'head.').items())
    moved = [k for k, v in _params(_part(ep2, 'backbone.'), param_names).items()
             if not torch.equal(v, _part(ep1, 'backbone.')[k])]
    assert len(moved) >= 0.9 * len(param_names)  # unfrozen phase (epoch 2): the backbone trains

    report = json.loads((tmp_path / 'work' / 'test_last_and_best.json').read_text())
    assert set(report) == {'last', 'best'} and report['last']['epoch'] == 2 and report['best']['epoch'] in (1, 2)
    # 'last' is the last weights' accuracy on the test split, recomputed here by hand: the epoch-2 tensors in a
    # fresh model, 3 seeded votes (TestVotingHook), the test batches in order
    assert accuracy_by_hand(cfg, ep2, num_votes=3) == pytest.approx(
        (report['last']['metrics']['accuracy/overall'], report['last']['metrics']['accuracy/mean_class']))
    best = glob.glob(str(tmp_path / 'work' / 'best_accuracy_overall_epoch_*.pth'))
    assert len(best) == 1 and report['best']['checkpoint'] == best[0]

    # tools/test.py on the best checkpoint: the same numbers as the best-on-val test run (votes are seeded)
    test_tool = load_tool('test.py')
    test_tool.main([str(cfg_path), best[0], '--work-dir', str(tmp_path / 'test')])
    out = capsys.readouterr().out
    assert f"'accuracy/overall': {report['best']['metrics']['accuracy/overall']}" in out


def test_wrong_prefix_or_checkpoint_is_a_clear_error(modelnet_subset, tmp_path):
    ckpt = tmp_path / 'pretrain.pth'
    save_pretrain_checkpoint(ckpt, TINY_BACKBONE)
    cfg = Config.fromfile(write_tiny_cfg(tmp_path / 'ft.py', FT, modelnet_subset, checkpoint=ckpt, prefix='target.'))
    cfg.work_dir = str(tmp_path / 'work')
    with pytest.raises(CheckpointKeyError, match=r"pretrain.pth: prefix 'target\.' matches none.*\['backbone\.'\]"):
        Runner.from_cfg(cfg).train()
    # a checkpoint of another backbone size: no tensor fits -> error, not a silent random init
    other = dict(TINY_BACKBONE, tokenizer=dict(TINY_BACKBONE['tokenizer'], embed_dims=48),
                 encoder=dict(TINY_BACKBONE['encoder'], embed_dims=48))
    save_pretrain_checkpoint(tmp_path / 'other.pth', other)
    init_default_scope('pjepa3d')
    model_cfg = Config.fromfile(write_tiny_cfg(tmp_path / 'ft2.py', FT, modelnet_subset,
                                               checkpoint=tmp_path / 'other.pth')).model
    model = MODELS.build(model_cfg)
    with pytest.raises(CheckpointKeyError, match=r'does not fit the backbone.*other.pth: loaded \d+/\d+.*MISSING'):
        model.init_weights()
    model_cfg.backbone.init_cfg.checkpoint = ''
    with pytest.raises(ValueError, match='checkpoint is empty'):
        MODELS.build(model_cfg).init_weights()


def test_linear_probe_trains_only_the_head(modelnet_subset, tmp_path):
    init_default_scope('pjepa3d')
    cfg = Config.fromfile(write_tiny_cfg(tmp_path / 'lp.py', LP, modelnet_subset))
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert type(model.head).__name__ == 'LinearClsHead' and model.head.fc.in_features == 64
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    from mmengine.dataset import default_collate
    batch = default_collate([dataset[i] for i in range(16)])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    assert not model.backbone.training  # frozen backbone stays in eval mode
    for _ in range(3):
        log = model.train_step(batch, optim)
    assert set(log) >= {'loss', 'acc'}
    after = model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in before.items() if k.startswith('backbone.'))
    assert not torch.equal(after['head.fc.weight'], before['head.fc.weight'])


def test_predict_voting_is_seeded_and_averages(modelnet_subset, tmp_path):
    init_default_scope('pjepa3d')
    cfg = Config.fromfile(write_tiny_cfg(tmp_path / 'ft.py', FT, modelnet_subset))
    model = MODELS.build(cfg.model).eval()
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    from mmengine.dataset import default_collate
    batch = default_collate([dataset[i] for i in range(4)])
    one = model.predict(batch['inputs'], batch['data_samples'])
    logits = model(batch['inputs'], mode='tensor')
    assert logits.shape == (4, 40)
    torch.testing.assert_close(torch.stack([o['pred_score'] for o in one]), logits.softmax(-1))
    model.num_votes = 5
    five = model.predict(batch['inputs'], batch['data_samples'])
    again = model.predict(batch['inputs'], batch['data_samples'])
    scores = torch.stack([o['pred_score'] for o in five])
    torch.testing.assert_close(scores, torch.stack([o['pred_score'] for o in again]))
    torch.testing.assert_close(scores.sum(-1), torch.ones(4))
    assert not torch.allclose(scores, logits.softmax(-1))
    assert [int(o['gt_label']) for o in five] == batch['data_samples']['label'].tolist()
