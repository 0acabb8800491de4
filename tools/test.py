# Test a checkpoint with a config's test split: mmdet3d 1.x's tools/test.py (runner.test()).
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.evaluator import DumpResults
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

# configs under projects/ load their code as `projects.<Name>.<package>` (custom_imports), as in mmdet3d:
# the repository root must be importable (tools/dist_train.sh puts it on PYTHONPATH too)
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import pjepa3d  # noqa: F401  registers the torch.load safe globals; registries import their modules lazily
from pjepa3d.engine.distributed import adapt_cfg_for_device


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='pjepa3d test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument(
        '--out',
        type=str,
        help='dump predictions to a pickle file (.pkl / .pickle) for offline evaluation')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        parser.error(f'--out must be a .pkl or .pickle file, got {args.out!r}')
    return args


def build_cfg(args):
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if cfg.get('default_scope') is None:
        cfg.default_scope = 'pjepa3d'

    # work_dir is determined in this priority: CLI > segment in file > filename
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

    cfg.load_from = args.checkpoint

    if cfg.get('test_dataloader') is None or cfg.get('test_cfg') is None:
        sys.exit(f'tools/test.py: error: {args.config} has no test split (test_dataloader and test_cfg '
                 'are needed; pretraining configs usually have none). Add them to the config or pass them '
                 'with --cfg-options, e.g. test_dataloader.dataset.type=... test_cfg.type=TestLoop; '
                 'for frozen-feature evaluation use tools/analysis_tools/svm_eval.py.')
    if cfg.get('test_evaluator') is None:
        if args.out is None:
            sys.exit(f'tools/test.py: error: {args.config} has no test_evaluator; add one (or pass it with '
                     '--cfg-options), or give --out FILE.pkl to only dump the predictions.')
        # predictions only: DumpResults is the evaluator
        cfg.test_evaluator = dict(type='DumpResults', out_file_path=args.out)
        args.dump_is_evaluator = True
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = build_cfg(args)
    adapt_cfg_for_device(cfg, args.launcher)

    # build the runner from config
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)

    # add `DumpResults` dummy metric
    if args.out is not None and not getattr(args, 'dump_is_evaluator', False):
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))

    # start testing
    metrics = runner.test()
    if runner.rank == 0:
        print(f'\n[pjepa3d] test finished. metrics: {metrics}\n'
              f'  work dir: {osp.abspath(runner.work_dir)}'
              + (f'\n  predictions: {osp.abspath(args.out)}' if args.out else ''), flush=True)


if __name__ == '__main__':
    main()
