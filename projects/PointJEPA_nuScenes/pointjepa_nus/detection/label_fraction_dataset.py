"""mmdet3d's NuScenesDataset restricted to a seeded fraction of the training infos (label-efficiency runs)."""
from mmdet3d.datasets import NuScenesDataset
from mmdet3d.registry import DATASETS
from mmengine.dist import get_rank
from mmengine.logging import print_log

from pjepa3d.datasets.splits import fraction_of, load_index_file, save_index_file


def gt_database_tokens(info_path):
    """The scan tokens ``create_gt_database.py`` recorded beside a GT-database index, or None."""
    import json
    import os.path as osp
    record = f'{osp.splitext(info_path)[0]}.tokens.json'
    if not osp.isfile(record):
        return None
    with open(record) as f:
        return json.load(f)['tokens']


@DATASETS.register_module()
class NuScenesLabelFractionDataset(NuScenesDataset):
    """``NuScenesDataset`` on a subset of the infos: ``label_fraction`` of them, drawn with ``fraction_seed``
    (:func:`pjepa3d.datasets.splits.fraction_of`, the label-fraction draw of the classification datasets: same
    list on every rank and run, nested across fractions), or the list in ``index_file``.

    Args:
        label_fraction (float): fraction of the infos in ``ann_file`` kept, in (0, 1].
        fraction_seed (int): seed of the draw.
        index_file (str, optional): JSON index file (``pjepa3d.datasets.splits`` format: ``{"indices": [...]}``,
            indices into ``data_list`` of ``ann_file``) used instead of the draw;
            ``projects/PointJEPA_nuScenes/tools/make_label_fractions.py`` writes them.
        save_index_file (str, optional): write the indices used there (a record of the run's labels).
    Other arguments are ``NuScenesDataset``'s.
    """

    def __init__(self, *args, label_fraction=1.0, fraction_seed=0, index_file=None, save_index_file=None,
                 **kwargs):
        if not 0.0 < label_fraction <= 1.0:
            raise ValueError(f'NuScenesLabelFractionDataset: label_fraction must be in (0, 1], got {label_fraction}')
        self.label_fraction = float(label_fraction)
        self.fraction_seed = int(fraction_seed)
        self.index_file = index_file
        self.save_index_file = save_index_file
        self.fraction_indices = None
        super().__init__(*args, **kwargs)
        self._check_gt_database()

    def _check_gt_database(self):
        """Refuse an ``ObjectSample`` database built from scans outside the label subset: pasting its objects
        would train a 5 % run on boxes from 100 % of the scans (label leakage).

        ``create_gt_database.py`` writes the tokens of the scans it used beside the database
        (``<dbinfos>.tokens.json``); they must all be in this subset. Without that record (a database from
        mmdet3d's own script), a database whose objects come from more scans than the subset holds is refused.
        """
        if self.label_fraction >= 1.0 and not self.index_file:
            return
        infos = [self.get_data_info(i) for i in range(len(self))]  # data_list itself is serialised away
        for transform in getattr(self.pipeline, 'transforms', []):
            sampler = getattr(transform, 'db_sampler', None)
            db_infos = getattr(sampler, 'db_infos', None)
            if not db_infos:
                continue
            info_path = str(getattr(sampler, 'info_path', ''))
            record = gt_database_tokens(info_path)
            if record is not None:
                outside = sorted(set(record) - {info.get('token') for info in infos})
                what = f'{len(outside)} scan(s) outside'
            else:
                scans = {obj.get('image_idx') for objs in db_infos.values() for obj in objs}
                outside = sorted(scans, key=str) if len(scans) > len(infos) else []
                what = f'{len(scans)} scans, more than the {len(infos)} of'
            if outside:
                raise ValueError(
                    f'NuScenesLabelFractionDataset: the ObjectSample database {info_path} holds objects of {what} '
                    f'this {100 * self.label_fraction:g} % label subset of {self.ann_file} (e.g. {outside[:3]}): '
                    "pasting them would leak labels. Build the subset's own database with "
                    'projects/PointJEPA_nuScenes/tools/create_gt_database.py ... --label-fraction '
                    f'{self.label_fraction:g} --fraction-seed {self.fraction_seed} and point NUS_GT_DB_ROOT at it')

    def load_data_list(self):
        data_list = super().load_data_list()
        n = len(data_list)
        if self.index_file:
            keep = sorted(load_index_file(self.index_file, n).tolist())
            source = self.index_file
        elif self.label_fraction < 1.0:
            keep = fraction_of(n, self.label_fraction, self.fraction_seed).tolist()
            source = f'seed {self.fraction_seed}'
        else:
            keep = list(range(n))
            source = 'all infos'
        self.fraction_indices = keep
        if self.save_index_file and get_rank() == 0:
            save_index_file(self.save_index_file, keep, ann_file=self.ann_file, num_infos=n,
                            label_fraction=self.label_fraction, fraction_seed=self.fraction_seed)
        print_log(f'NuScenesLabelFractionDataset: {len(keep)} of {n} infos of {self.ann_file} '
                  f'({100.0 * len(keep) / n:.1f} %, {source})', logger='current')
        return [data_list[i] for i in keep]
