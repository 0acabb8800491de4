"""mmdet3d components of the project (need mmcv / mmdet / mmdet3d: ``pip install -r requirements/mmdet3d.txt``,
see ``projects/PointJEPA_nuScenes/README.md``)."""
try:
    import mmdet3d  # noqa: F401
except ImportError as err:  # say what to install instead of a bare ModuleNotFoundError
    raise ImportError(f'projects.PointJEPA_nuScenes detection needs mmdet3d 1.4 with mmcv 2.1 / mmdet 3.3 ({err}); '
                      'install them with the commands in requirements/mmdet3d.txt') from err

from .bev_visualization_hook import Det3DBEVVisualizationHook  # noqa: E402
from .centerpoint_dynamic import CenterPointDynamic  # noqa: E402
from .db_sampler import TolerantDataBaseSampler  # noqa: E402
from .input_check_hook import DetectionInputCheckHook, check_detection_samples  # noqa: E402
from .label_fraction_dataset import NuScenesLabelFractionDataset  # noqa: E402
from .pillar_encoder import PointJEPAPillarEncoder, scatter_pool, unique_coors  # noqa: E402

__all__ = ['CenterPointDynamic', 'Det3DBEVVisualizationHook', 'DetectionInputCheckHook', 'PointJEPAPillarEncoder',
           'NuScenesLabelFractionDataset', 'TolerantDataBaseSampler', 'check_detection_samples', 'scatter_pool',
           'unique_coors']
