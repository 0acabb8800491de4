# Train (pretrain) a model from a config: mmdet3d 1.x's tools/train.py, flags and all.
import argparse
import logging
import os
import os.path as osp
import sys

import torch.distributed as torch_dist
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

# configs under projects/ load their code as `projects.<Name>.<package>` (custom_imports), as in mmdet3d:
# the repository root must be importable (tools/dist_train.sh puts it on PYTHONPATH too)
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import pjepa3d  # noqa: F401  registers the torch.load safe globals; registries import their modules lazily
from pjepa3d.engine.distributed import adapt_cfg_for_device, has_accelerator, leave_process_group
from pjepa3d.engine.optimizers import cpu_bf16_slow_reason, cpu_has_bf16_path
from pjepa3d.utils import heap_would_help, keep_heap, wants_kept_heap


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train (pretrain) a pjepa3d model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training: on a GPU mmengine\'s AmpOptimWrapper (float16, dynamic '
        'loss scale, as mmdet3d); on a CPU pjepa3d\'s BF16AmpOptimWrapper (bfloat16 autocast, no loss scale)')
    parser.add_argument(
        '--keep-heap',
        action=argparse.BooleanOptionalAction,
        default=None,
        help='glibc malloc told to keep freed memory (MALLOC_MMAP_MAX_=0, no heap trimming; Linux), set by restarting '
        'the process with the variables: each CPU step reuses its pages instead of page-faulting them afresh (here '
        'the ViT-S step under --amp 1.73 -> 1.47 s, the ViT-T demo 1.04x, peak memory unchanged; '
        'pjepa3d/utils/cpu_heap.py). Default: on when training on a CPU, unless PJEPA3D_KEEP_HEAP=0; '
        '--no-keep-heap turns it off, --keep-heap turns it on on any device')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='enable automatically scaling LR (uses auto_scale_lr in the config)')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='If specify checkpoint path, resume from it, while if not '
        'specify, try to auto resume from the latest checkpoint '
        'in the work directory.')
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
        '--no-validate',
        action='store_true',
        help='do not run the validation loop (nor pick a best checkpoint on it) during training')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # When using PyTorch version >= 2.0.0, the `torch.distributed.launch`
    # will pass the `--local-rank` parameter to `tools/train.py` instead
    # of `--local_rank`.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_amp(cfg):
    """``--amp``. With an accelerator: ``OptimWrapper`` -> ``AmpOptimWrapper(loss_scale='dynamic')``, as mmdet3d.
    On a CPU (mmengine's AmpOptimWrapper cannot be built there): ``OptimWrapper`` -> pjepa3d's
    ``BF16AmpOptimWrapper`` (bfloat16 autocast, which needs no loss scale), where oneDNN has a bfloat16 path;
    on a CPU without one (e.g. AVX2 only) bfloat16 is many times slower than float32, so the run stays float32
    and the log says why."""
    optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if optim_wrapper in ('AmpOptimWrapper', 'BF16AmpOptimWrapper', 'pjepa3d.BF16AmpOptimWrapper'):
        print_log(
            'AMP training is already enabled in your config.',
            logger='current',
            level=logging.WARNING)
        return
    assert optim_wrapper == 'OptimWrapper', (
        '`--amp` is only supported when the optimizer wrapper type is '
        f'`OptimWrapper` but got {optim_wrapper}.')
    if has_accelerator():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    elif not cpu_has_bf16_path():
        print_log(f'--amp on a CPU: {cpu_bf16_slow_reason()}; this run trains in float32. For bfloat16 anyway: '
                  '--cfg-options optim_wrapper.type=pjepa3d.BF16AmpOptimWrapper', logger='current',
                  level=logging.WARNING)
    else:
        cfg.optim_wrapper.type = 'pjepa3d.BF16AmpOptimWrapper'
        cfg.optim_wrapper.dtype = 'bfloat16'
        hint = '' if not heap_would_help() else (
            '; the heap is not kept (--no-keep-heap, PJEPA3D_KEEP_HEAP=0 or main(argv) called from Python): '
            '--keep-heap (Linux) makes a CPU step faster at the same peak memory (benchmarks/README.md, '
            '"The mini-PointNet in blocks")')
        print_log('--amp on a CPU: bfloat16 autocast (pjepa3d.BF16AmpOptimWrapper)' + hint, logger='current')


def disable_validation(cfg):
    """``--no-validate``: no validation loop; the best-checkpoint rule and the hooks that read validation
    metrics (the probe at iteration 0, a rank monitor fed by the probe) go with it."""
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    checkpoint = cfg.get('default_hooks', {}).get('checkpoint')
    if checkpoint is not None and checkpoint.get('save_best') is not None:
        checkpoint.save_best = None
    hooks = cfg.get('custom_hooks') or []
    dropped = [h for h in hooks if h.get('type') == 'ProbeAtStartHook'
               or (h.get('type') == 'CollapseMonitorHook' and h.get('source') == 'val')]
    cfg.custom_hooks = [h for h in hooks if h not in dropped]
    note = f"; dropped {', '.join(h['type'] for h in dropped)}" if dropped else ''
    print_log(f'--no-validate: no validation loop{note}', logger='current')


def describe_bad_ann_files(cfg):
    """Which annotation (infos) files of the config lack ``data_list`` / ``metainfo`` (mmengine's dataset error
    does not name the file)."""
    import pickle
    bad = []
    for split in ('train', 'val', 'test'):
        dataset = (cfg.get(f'{split}_dataloader') or {}).get('dataset') or {}
        while 'dataset' in dataset:  # RepeatDataset / CBGSDataset wrappers
            dataset = dataset['dataset']
        ann = dataset.get('ann_file')
        if not ann:
            continue
        path = ann if osp.isabs(ann) else osp.join(dataset.get('data_root') or '', ann)
        try:
            with open(path, 'rb') as f:
                infos = pickle.load(f)
        except Exception as err:  # unreadable: say so too
            bad.append(f'{split}: {path} ({type(err).__name__}: {err})')
            continue
        missing = [k for k in ('data_list', 'metainfo') if not isinstance(infos, dict) or k not in infos]
        if missing:
            keys = list(infos)[:8] if isinstance(infos, dict) else type(infos).__name__
            bad.append(f'{split}: {path} has no {missing} (its top level: {keys}; mmdet3d 1.x infos needed, '
                       "e.g. from mmdet3d's tools/create_data.py or update_infos_to_v2.py)")
    return '; '.join(bad) or 'no annotation file of the config could be checked'


def check_amp_device(cfg):
    """mmengine 0.10's AmpOptimWrapper asserts a GPU/NPU/MLU/MUSA at build time; say so before building."""
    if cfg.get('optim_wrapper', {}).get('type') == 'AmpOptimWrapper' and not has_accelerator():
        sys.exit('tools/train.py: error: the config selects AmpOptimWrapper, which needs a GPU: mmengine\'s '
                 'AmpOptimWrapper only trains on CUDA, NPU, MLU or MUSA devices, and none is available here. '
                 'On a CPU use --cfg-options optim_wrapper.type=pjepa3d.BF16AmpOptimWrapper (bfloat16 '
                 'autocast, what --amp selects here) or optim_wrapper.type=OptimWrapper (float32).')


def build_cfg(args):
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    # pjepa3d's registries are the default scope unless the config says otherwise
    if cfg.get('default_scope') is None:
        cfg.default_scope = 'pjepa3d'

    # work_dir is determined in this priority: CLI > segment in file > filename
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

    if args.amp is True:
        enable_amp(cfg)

    if args.no_validate:
        disable_validation(cfg)

    # enable automatically scaling LR
    if args.auto_scale_lr:
        if 'auto_scale_lr' in cfg and \
                'enable' in cfg.auto_scale_lr and \
                'base_batch_size' in cfg.auto_scale_lr:
            cfg.auto_scale_lr.enable = True
        else:
            raise RuntimeError('Can not find "auto_scale_lr" or '
                               '"auto_scale_lr.enable" or '
                               '"auto_scale_lr.base_batch_size" in your'
                               ' configuration file.')

    # resume is determined in this priority: resume from > auto_resume
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def report_outputs(runner):
    if runner.rank != 0:
        return
    work_dir = osp.abspath(runner.work_dir)
    last = osp.join(work_dir, 'last_checkpoint')
    ckpt = None
    if osp.isfile(last):
        with open(last) as f:
            ckpt = f.read().strip() or None
    print(f'\n[pjepa3d] training finished. Outputs:\n'
          f'  work dir:        {work_dir}\n'
          f'  last checkpoint: {ckpt or "none written (see default_hooks.checkpoint)"}\n'
          f'  logs:            {osp.abspath(runner.log_dir)}', flush=True)


def main(argv=None):
    args = parse_args(argv)
    if wants_kept_heap(args.keep_heap, restart=argv is None):
        keep_heap('pjepa3d', restart=argv is None)  # a command line of its own to restart
    cfg = build_cfg(args)
    check_amp_device(cfg)
    adapt_cfg_for_device(cfg, args.launcher)

    # build the runner from config
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    if runner.distributed:
        runner.logger.info(f'Distributed: launcher={runner.launcher}, backend={torch_dist.get_backend()}, '
                           f'world_size={runner.world_size}, rank={runner.rank}')

    try:
        runner.train()
    except ValueError as err:
        if 'must have data_list' not in str(err):
            raise
        sys.exit(f'tools/train.py: error: {err}: {describe_bad_ann_files(cfg)}')
    report_outputs(runner)
    leave_process_group(end_process=argv is None)  # a command line ends its process there


if __name__ == '__main__':
    main()
