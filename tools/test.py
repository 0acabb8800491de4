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
from pjepa3d.engine.distributed import adapt_cfg_for_device, leave_process_group


VIS_TASKS = ['mono_det', 'multi-view_det', 'lidar_det', 'lidar_seg', 'multi-modality_det']


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
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved. '
        'If specified, it will be automatically saved '
        'to the work_dir/timestamp/show_dir')
    parser.add_argument(
        '--score-thr', type=float, default=0.1, help='bbox score threshold')
    parser.add_argument(
        '--task',
        type=str,
        choices=VIS_TASKS,
        help='Determine the visualization method depending on the task.')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
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
    if (args.show or args.show_dir) and args.task is None:
        parser.error(f"--show / --show-dir need --task (one of {', '.join(VIS_TASKS)}), as in mmdet3d")
    return args


def trigger_visualization_hook(cfg, args):
    """--show / --show-dir: turn on the config's ``default_hooks.visualization`` (mmdet3d's tools/test.py)."""
    default_hooks = cfg.get('default_hooks') or {}
    if 'visualization' not in default_hooks:
        sys.exit(f'tools/test.py: error: --show / --show-dir need a visualization hook in the config\'s '
                 "default_hooks (e.g. visualization=dict(type='Det3DVisualizationHook') of mmdet3d); "
                 f'{args.config} has none')
    visualization_hook = default_hooks['visualization']
    visualization_hook['draw'] = True
    if args.show:
        visualization_hook['show'] = True
        visualization_hook['wait_time'] = args.wait_time
    if args.show_dir:
        visualization_hook['test_out_dir'] = args.show_dir
    visualization_hook['vis_task'] = args.task
    visualization_hook['score_thr'] = args.score_thr
    return cfg


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

    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)

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
              + (f'\n  predictions: {osp.abspath(args.out)}' if args.out else '')
              + (f'\n  pictures: {osp.abspath(osp.join(runner.work_dir, runner.timestamp, args.show_dir))}'
                 if args.show_dir else ''), flush=True)
    leave_process_group(end_process=argv is None)  # a command line ends its process there


if __name__ == '__main__':
    main()
