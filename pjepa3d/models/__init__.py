"""Registers every model component in ``pjepa3d.registry.MODELS``."""
from .algorithms import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .predictors import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .maskers import *  # noqa: F401,F403
from .tokenizers import *  # noqa: F401,F403
from .utils import *  # noqa: F401,F403
from .segmentors import *  # noqa: F401,F403
from .classifiers import *  # noqa: F401,F403
