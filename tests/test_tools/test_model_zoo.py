"""The model-zoo metafiles (mmpretrain's format) list every top-level config, point at files that exist, and
quote only the numbers the README quotes."""
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize('algo', ['point_jepa', 'point_mae'])
def test_metafile_lists_every_config_and_existing_files(algo):
    meta = yaml.safe_load((ROOT / 'configs' / algo / 'metafile.yml').read_text())
    (collection,) = meta['Collections']
    assert (ROOT / collection['README']).is_file() and (ROOT / collection['Code']['URL']).is_file()
    listed = {m['Config'] for m in meta['Models']}
    assert all((ROOT / c).is_file() for c in listed), listed
    shipped = {f'configs/{algo}/{p.name}' for p in (ROOT / 'configs' / algo).glob('*.py')}
    assert shipped == listed, f'configs missing from the metafile: {shipped - listed}; stale: {listed - shipped}'
    assert all(m['Name'] == Path(m['Config']).stem and m['In Collection'] == collection['Name'] for m in meta['Models'])


@pytest.mark.parametrize('algo', ['point_jepa', 'point_mae'])
def test_metafile_numbers_are_the_readmes(algo):
    readme = (ROOT / 'README.md').read_text()
    meta = yaml.safe_load((ROOT / 'configs' / algo / 'metafile.yml').read_text())
    numbers = [v for m in meta['Models'] for r in (m.get('Results') or []) for v in r['Metrics'].values()]
    assert numbers
    for value in numbers:
        assert re.search(rf'\b{value:.2f}\b', readme), f'{value} is not in README.md'


def test_model_bases_hold_no_hooks_and_no_shared_paths():
    # hooks are training choices (configs add them), not part of a model; no config reads ../shared
    from mmengine.config import Config
    for path in sorted((ROOT / 'configs' / '_base_' / 'models').glob('*.py')):
        assert 'custom_hooks' not in Config.fromfile(str(path)), path
    for path in sorted(list((ROOT / 'configs').rglob('*.py')) + list((ROOT / 'projects').rglob('configs/*.py'))):
        assert '../shared' not in path.read_text(), path
