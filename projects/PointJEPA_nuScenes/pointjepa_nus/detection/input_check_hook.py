"""Before the first training step: the detection data that mmdet3d would only trip over mid-epoch, with an error
that names the file and the sample."""
import os.path as osp

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmdet3d.registry import HOOKS

from pjepa3d.utils.checks import PointCloudError


def _innermost(dataset):
    """The dataset under RepeatDataset / CBGSDataset / ClassBalancedDataset wrappers."""
    while hasattr(dataset, 'dataset'):
        dataset = dataset.dataset
    return dataset


def _load_dim(dataset, default=5):
    for transform in getattr(getattr(dataset, 'pipeline', None), 'transforms', []):
        if type(transform).__name__ == 'LoadPointsFromFile':
            return int(transform.load_dim)
    return default


def check_detection_samples(dataset, max_listed=10):
    """Scan files exist and hold a whole number of ``load_dim`` float32 points; some sample has a box.

    Returns:
        list[str]: the tokens of samples without any box (kept: mmdet3d trains on them as background).
    Raises:
        FileNotFoundError / PointCloudError: naming the sample index, its token and the file.
        ValueError: when no sample of the dataset has a box (a test split, or infos without annotations).
    """
    ds = _innermost(dataset)
    load_dim = _load_dim(ds)
    problems, boxless = [], []
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        token = info.get('token', info.get('sample_idx', i))
        path = info.get('lidar_points', {}).get('lidar_path') or info.get('lidar_path')
        where = f'sample {i} (token {token}) of {ds.ann_file}'
        if not path or not osp.isfile(path):
            problems.append(FileNotFoundError(f'{where}: scan file not found: {path}'))
        else:
            nbytes = osp.getsize(path)
            if nbytes == 0 or nbytes % (4 * load_dim):
                problems.append(PointCloudError(
                    f'{where}: scan file {path} has {nbytes} bytes, not a whole, non-zero number of {load_dim}-float32 '
                    f'points ({nbytes // (4 * load_dim)} full points + {nbytes % (4 * load_dim)} stray bytes): '
                    'truncated, or LoadPointsFromFile.load_dim is wrong for it'))
        if not len(info.get('ann_info', {}).get('gt_labels_3d', info.get('instances', []))):
            boxless.append(str(token))
    if problems:
        listed = '\n  '.join(str(p) for p in problems[:max_listed])
        more = f'\n  ... and {len(problems) - max_listed} more' if len(problems) > max_listed else ''
        raise type(problems[0])(f'{len(problems)} unusable training sample(s):\n  {listed}{more}')
    if len(ds) and len(boxless) == len(ds):
        raise ValueError(f'{ds.ann_file}: none of its {len(ds)} samples has a 3D box: infos without annotations '
                         '(a test split?) cannot train a detector')
    return boxless


@HOOKS.register_module()
class DetectionInputCheckHook(Hook):
    """Runs :func:`check_detection_samples` on the training set in ``before_train`` (a stat per scan file, no
    loading), so a truncated scan or a box-less training set stops the run before any step, naming the file."""

    priority = 'VERY_HIGH'

    def before_train(self, runner):
        boxless = check_detection_samples(runner.train_dataloader.dataset)
        if boxless:
            print_log(f'DetectionInputCheckHook: {len(boxless)} training sample(s) without any box (trained as '
                      f'background), e.g. tokens {boxless[:3]}', logger='current')
