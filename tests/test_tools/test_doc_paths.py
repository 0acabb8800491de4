"""The repository paths the user-facing docs name exist (a renamed or deleted file makes its mention stale)."""
import glob
import re

import pytest

from tests.conftest import PROJECT_ROOT

DOCS = ['README.md', 'docs/modelnet10_results.md', 'docs/results/README.md',
        'configs/point_jepa/benchmarks/classification.md']
# a path into this repository's top-level folders, not part of a longer path or URL; `<...>` marks a placeholder
PATH = re.compile(r'(?<![\w./-])((?:pjepa3d|configs|tools|benchmarks|docs|projects|requirements|tests)/'
                  r'[\w./*<>-]*[\w*])')


def doc_paths(text):
    return sorted({p for p in PATH.findall(text) if '<' not in p})


def test_doc_paths_finds_paths_and_skips_placeholders():
    text = ('see `pjepa3d/ops/knn.py`, configs/a_b-c.py, docs/results/<run>, https://x.org/tools/y.py, '
            'and docs/results/evidence_2h_amp*/evidence.json.')
    assert doc_paths(text) == ['configs/a_b-c.py', 'docs/results/evidence_2h_amp*/evidence.json', 'pjepa3d/ops/knn.py']


@pytest.mark.parametrize('doc', DOCS)
def test_every_repository_path_a_doc_names_exists(doc):
    paths = doc_paths((PROJECT_ROOT / doc).read_text())
    assert paths, f'{doc} names no repository path: the pattern is broken'
    missing = [p for p in paths if not (glob.glob(str(PROJECT_ROOT / p)) if '*' in p else (PROJECT_ROOT / p).exists())]
    assert not missing, f'{doc} names paths that do not exist: {missing}'
