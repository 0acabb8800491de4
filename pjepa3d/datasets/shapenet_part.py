"""ShapeNetPart part-segmentation set in the ``shapenetcore_partanno_segmentation_benchmark_v0_normal`` layout."""
import json
from pathlib import Path

import numpy as np

from pjepa3d.registry import DATASETS
from pjepa3d.utils.checks import PointCloudError
from .base_point_dataset import BasePointDataset, require_dir

NORMAL_DIR = 'shapenetcore_partanno_segmentation_benchmark_v0_normal'

#: The 16 categories in the community's label order (category index = position), their ShapeNet
#: synset ids and their global part ids (50 in all, contiguous per category).
SHAPENETPART_CATEGORIES = (
    ('Airplane', '02691156', (0, 1, 2, 3)),
    ('Bag', '02773838', (4, 5)),
    ('Cap', '02954340', (6, 7)),
    ('Car', '02958343', (8, 9, 10, 11)),
    ('Chair', '03001627', (12, 13, 14, 15)),
    ('Earphone', '03261776', (16, 17, 18)),
    ('Guitar', '03467517', (19, 20, 21)),
    ('Knife', '03624134', (22, 23)),
    ('Lamp', '03636649', (24, 25, 26, 27)),
    ('Laptop', '03642806', (28, 29)),
    ('Motorbike', '03790512', (30, 31, 32, 33, 34, 35)),
    ('Mug', '03797390', (36, 37)),
    ('Pistol', '03948459', (38, 39, 40)),
    ('Rocket', '04099429', (41, 42, 43)),
    ('Skateboard', '04225987', (44, 45, 46)),
    ('Table', '04379243', (47, 48, 49)),
)
CATEGORY_NAMES = tuple(c[0] for c in SHAPENETPART_CATEGORIES)
#: category index -> tuple of global part ids
CATEGORY_PARTS = tuple(c[2] for c in SHAPENETPART_CATEGORIES)
NUM_PARTS = 50
#: global part id -> category index
PART_TO_CATEGORY = tuple(cat for cat, parts in enumerate(CATEGORY_PARTS) for _ in parts)

SPLIT_FILES = {'train': ('train',), 'val': ('val',), 'test': ('test',), 'trainval': ('train', 'val')}


def read_category_file(path):
    """``synsetoffset2category.txt`` -> {synset: category name}; errors name the file and line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'ShapeNetPart category file not found: {path}')
    known = {name: synset for name, synset, _ in SHAPENETPART_CATEGORIES}
    mapping = {}
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2:
            raise ValueError(f'{path}:{lineno}: expected "<Category> <synset>", got {line!r}')
        name, synset = fields
        if name not in known:
            raise ValueError(f'{path}:{lineno}: unknown category {name!r}; ShapeNetPart has {CATEGORY_NAMES}')
        if known[name] != synset:
            raise ValueError(f'{path}:{lineno}: category {name!r} has synset {known[name]}, not {synset}')
        mapping[synset] = name
    if not mapping:
        raise ValueError(f'{path}: no categories listed')
    return mapping


def _row_lines(path):
    """Line numbers (1-based) of the non-blank lines of a text file: row i of the array is on line [i]."""
    return [n for n, line in enumerate(Path(path).read_text().splitlines(), start=1) if line.strip()]


def _diagnose(path, num_columns):
    """Raise the PointCloudError naming the first bad line of a shape file that numpy could not read."""
    rows = 0
    for lineno, line in enumerate(Path(path).read_text().splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        rows += 1
        if len(fields) != num_columns:
            raise PointCloudError(f'{path}:{lineno}: expected {num_columns} values (x y z nx ny nz part), '
                                  f'got {len(fields)}: {line.strip()[:80]!r}')
        try:
            [float(v) for v in fields]
        except ValueError as err:
            raise PointCloudError(f'{path}:{lineno}: cannot parse the row ({err})') from None
    if rows == 0:
        raise PointCloudError(f'{path}: the shape file is empty (no point rows)')


def read_part_file(path, num_columns=7):
    """A shape file's rows ``x y z nx ny nz part`` -> points float32 (N, 6), part ids int64 (N,).

    Raises PointCloudError naming the file, and the line for a row with the wrong column count, an
    unparsable value or a non-integer part id; an empty file is an error too.
    """
    import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # numpy warns on empty files; reported below
            data = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError:
        data = None
    if data is None or data.shape[0] == 0 or data.shape[1] != num_columns:
        _diagnose(path, num_columns)
        raise PointCloudError(f'{path}: cannot read the point rows (shape {None if data is None else data.shape})')
    labels = data[:, 6]
    bad = labels != np.round(labels)
    if bad.any():
        line = _row_lines(path)[int(np.argmax(bad))]
        raise PointCloudError(f'{path}:{line}: part label {labels[bad][0]} is not an integer')
    return data[:, :6].astype(np.float32), labels.astype(np.int64)


@DATASETS.register_module()
class ShapeNetPart(BasePointDataset):
    """ShapeNetPart shapes with per-point part labels (16 categories, 50 global part ids).

    Layout under ``data_root`` (or ``data_root/shapenetcore_partanno_segmentation_benchmark_v0_normal``)::

        synsetoffset2category.txt            # "Cap<TAB>02954340" lines
        train_test_split/shuffled_{train,val,test}_file_list.json   # ["shape_data/<synset>/<id>", ...]
        <synset>/<id>.txt                     # rows "x y z nx ny nz part"

    Category indices and part ids always follow the community's fixed table
    (:data:`SHAPENETPART_CATEGORIES`), even when the category file lists a subset.

    ``results``: ``points`` float32 (N, 3) or (N, 6) with normals; ``pts_semantic_mask`` int64 (N,)
    global part ids; ``category`` (and ``label``) the category index; ``category_name``; ``file``.

    Args:
        data_root (str): see the layout above.
        split (str): 'train', 'val', 'test' or 'trainval' (train + val lists).
        use_normals (bool): keep the normals as point channels 3-5.
        categories (list[str], optional): keep only these category names.
        pipeline (list): transform configs.
    """

    def __init__(self, data_root, split='train', use_normals=False, categories=None, pipeline=(), **kwargs):
        if split not in SPLIT_FILES:
            raise ValueError(f'ShapeNetPart: split must be one of {tuple(SPLIT_FILES)}, got {split!r}')
        root = require_dir(data_root, 'ShapeNetPart data_root')
        self.folder = root / NORMAL_DIR if (root / NORMAL_DIR).is_dir() else root
        self.split = split
        self.synset_to_name = read_category_file(self.folder / 'synsetoffset2category.txt')
        if categories is not None:
            unknown = sorted(set(categories) - set(CATEGORY_NAMES))
            if unknown:
                raise ValueError(f'ShapeNetPart: unknown categories {unknown}; choose from {CATEGORY_NAMES}')
        self.categories = None if categories is None else tuple(categories)
        self.split_files = [self.folder / 'train_test_split' / f'shuffled_{s}_file_list.json'
                            for s in SPLIT_FILES[split]]
        for path in self.split_files:
            if not path.is_file():
                raise FileNotFoundError(f'ShapeNetPart split file for {split!r} not found: {path}')
        metainfo = dict(kwargs.pop('metainfo', None) or {}, classes=CATEGORY_NAMES, category_parts=CATEGORY_PARTS,
                        num_parts=NUM_PARTS)
        super().__init__(data_root=str(root), pipeline=pipeline, use_normals=use_normals, metainfo=metainfo,
                         **kwargs)

    def load_data_list(self):
        index = {name: i for i, name in enumerate(CATEGORY_NAMES)}
        data_list, missing = [], []
        for path in self.split_files:
            try:
                entries = json.loads(path.read_text())
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}: not valid JSON ({err})') from None
            if not isinstance(entries, list):
                raise ValueError(f'{path}: expected a JSON list of "shape_data/<synset>/<id>" strings')
            for entry in entries:
                parts = str(entry).strip('/').split('/')
                if len(parts) < 2:
                    raise ValueError(f'{path}: entry {entry!r} is not of the form "shape_data/<synset>/<id>"')
                synset, shape_id = parts[-2], parts[-1]
                if synset not in self.synset_to_name:
                    raise ValueError(f'{path}: entry {entry!r} has synset {synset}, which is not in '
                                     f'{self.folder / "synsetoffset2category.txt"}')
                name = self.synset_to_name[synset]
                if self.categories is not None and name not in self.categories:
                    continue
                file = self.folder / synset / f'{shape_id}.txt'
                if not file.is_file():
                    missing.append((file, path))
                    continue
                data_list.append(dict(file=str(file), category=index[name], label=index[name], category_name=name))
        if missing:
            raise FileNotFoundError(f'{len(missing)} shape file(s) listed in the ShapeNetPart split '
                                    f'{self.split!r} are missing, e.g. {missing[0][0]} (listed in {missing[0][1]})')
        return data_list

    def load_points(self, info):
        points, labels = read_part_file(info['file'])
        allowed = CATEGORY_PARTS[info['category']]
        bad = (labels < allowed[0]) | (labels > allowed[-1])
        if bad.any():
            i = int(np.argmax(bad))
            line = _row_lines(info['file'])[i]
            raise PointCloudError(f"{info['file']}:{line}: part label {labels[i]} is not a part of "
                                  f"{info['category_name']} (global part ids {allowed[0]}-{allowed[-1]})")
        info['pts_semantic_mask'] = labels
        return self.check_points(points, info, num_dims=6)

    def prepare_data(self, idx):
        results = self.get_data_info(idx)
        results['points'] = self.load_points(results)
        return self.pipeline(results)
