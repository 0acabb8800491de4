"""tools/analysis_tools/few_shot.py: every episode through the real Runner, mean +- std per setting."""
import json

import pytest
import torch
from mmengine.config import Config

from .conftest import BENCH, TINY_BACKBONE, load_tool, tiny_pipelines, write_fewshot
from .test_cls_runner import accuracy_by_hand


def _cfg(tmp_path, data_root):
    train, test = tiny_pipelines()
    path = tmp_path / 'fewshot.py'
    loader = 'num_workers=0, persistent_workers=False, batch_size=10'
    path.write_text(
        f"_base_ = [{str(BENCH / 'pointjepa_vit-s_1xb32-150e_ft_modelnet40-fewshot.py')!r}]\n"
        f"model = dict(backbone=dict(_delete_=True, init_cfg=None, **{TINY_BACKBONE!r}), head=dict(in_channels=64))\n"
        f"train_dataloader = dict({loader}, dataset=dict(data_root={str(data_root)!r}, pipeline={train!r}))\n"
        f"test_dataloader = dict({loader}, dataset=dict(data_root={str(data_root)!r}, pipeline={test!r}))\n"
        "train_cfg = dict(max_epochs=2, val_interval=3)\n"
        "param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=2)]\n"
        "default_hooks = dict(checkpoint=dict(interval=2))\n")
    return path


def test_few_shot_runs_all_folds_and_summarises(tmp_path, capsys):
    data = tmp_path / 'ModelNetFewshot'
    write_fewshot(data, way=5, shot=2, folds=(0, 1), n_test=2, num_points=128)
    few_shot = load_tool('analysis_tools/few_shot.py')
    summary = few_shot.main([str(_cfg(tmp_path, data)), '--ways', '5', '--shots', '2', '--folds', '0', '1',
                             '--work-dir', str(tmp_path / 'work')])
    assert set(summary) == {'5way_2shot'} and set(summary['5way_2shot']['folds']) == {0, 1}
    accs = list(summary['5way_2shot']['folds'].values())
    # each fold's number is the test accuracy of that fold's last-epoch weights (epoch_2.pth) on that fold's
    # test split with a 5-class head, recomputed here by hand
    cfg = Config.fromfile(str(_cfg(tmp_path, data)))
    cfg.model.head.num_classes = 5
    for fold, acc in summary['5way_2shot']['folds'].items():
        cfg.test_dataloader.dataset.update(way=5, shot=2, fold=fold)
        ckpt = torch.load(tmp_path / 'work' / '5way_2shot' / f'fold{fold}' / 'epoch_2.pth', map_location='cpu',
                          weights_only=False)
        assert ckpt['meta']['epoch'] == 2
        assert acc == pytest.approx(accuracy_by_hand(cfg, ckpt['state_dict'], num_votes=1)[0]), fold
    assert summary['5way_2shot']['mean'] == pytest.approx(sum(accs) / 2)
    out = capsys.readouterr()
    assert '| 5way_2shot | 2 |' in out.out and '+-' in out.out
    assert 'few-shot episodes' in out.err  # the progress bar
    saved = json.loads((tmp_path / 'work' / 'few_shot_results.json').read_text())
    assert saved['results']['5way_2shot']['std'] == pytest.approx(summary['5way_2shot']['std'])
    assert (tmp_path / 'work' / '5way_2shot' / 'fold1' / 'epoch_2.pth').is_file()


def test_few_shot_missing_fold_stops_before_any_run(tmp_path):
    data = tmp_path / 'ModelNetFewshot'
    write_fewshot(data, way=5, shot=2, folds=(0,), num_points=32)
    few_shot = load_tool('analysis_tools/few_shot.py')
    with pytest.raises(FileNotFoundError, match=r'1 fold file\(s\) missing, e\.g\. .*5way_2shot/7\.pkl'):
        few_shot.main([str(_cfg(tmp_path, data)), '--ways', '5', '--shots', '2', '--folds', '0', '7',
                       '--work-dir', str(tmp_path / 'work')])
    assert not (tmp_path / 'work' / '5way_2shot').exists()
