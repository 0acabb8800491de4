"""Compatibility fixes for the torch / mmengine versions pjepa3d supports.

torch>=2.6 defaults ``torch.load`` to ``weights_only=True``. mmengine 0.10 calls
``torch.load(filename, map_location=...)`` without ``weights_only`` (for
``resume`` and ``load_from``), and its checkpoints hold more than tensors:

* ``message_hub.log_scalars`` are :class:`HistoryBuffer` objects, whose state
  holds numpy arrays and their ``statistics_methods`` dict; under pickle
  protocol 2 (torch's default) the methods are written as
  ``getattr(HistoryBuffer, 'mean')``, i.e. the global ``builtins.getattr``;
* numpy arrays (``numpy.core.multiarray._reconstruct``, ``numpy.ndarray``),
  numpy scalars such as a ``best_score`` (``numpy.core.multiarray.scalar``) and
  dtypes (``numpy.dtype``, rebuilt as instances of ``numpy.dtypes.Float64DType``
  & co., which the unpickler must also allow).

numpy 2 writes ``numpy._core.multiarray.*`` where numpy 1.x writes
``numpy.core.multiarray.*``; both names are registered, so a checkpoint written
under either numpy loads under the other.

Nothing here turns ``weights_only`` off: only these types are allow-listed, and
``builtins.getattr`` is allow-listed as a restricted stand-in that resolves
nothing but the methods mmengine pickles that way (:class:`HistoryBuffer`'s
statistics methods; OneCycleLR's annealing function). Nothing else is added to
the process's allow-list: no class can be instantiated by a checkpoint except
``HistoryBuffer``, numpy arrays / scalars / dtypes, and the restricted getattr
refuses every other attribute (``tests/test_tools/test_checkpoint_compat.py``).

Upstream: mmengine fixed loading under torch >= 2.6 after 0.10.7, in
open-mmlab/mmengine#1670 ("[Fix] Load checkpoint with weights_only=False",
merged 2025-10-25): its checkpoint loaders pass ``weights_only=False`` (they trust
the file) instead of allow-listing. When the ``mmengine`` pin in
``requirements/runtime.txt`` moves to a release that contains it, mmengine's own
``resume`` / ``load_from`` no longer need this module: delete the
``register_checkpoint_safe_globals()`` call in ``pjepa3d/__init__.py`` and this
file, and keep ``tests/test_tools/test_checkpoint_compat.py``'s resume / load
tests (they must still pass) while deleting its allow-list tests. Plain
``torch.load(path)`` of a full mmengine checkpoint (not just ``state_dict``) will
then need ``weights_only=False`` from the caller.
"""
import torch

_NUMPY_MULTIARRAY_MODULES = ('numpy.core.multiarray', 'numpy._core.multiarray')


def _numpy_multiarray():
    """numpy's multiarray module without triggering numpy 2's ``numpy.core`` deprecation warning."""
    try:
        from numpy._core import multiarray  # numpy >= 2 (and the 1.26 shim)
        if hasattr(multiarray, 'scalar') and hasattr(multiarray, '_reconstruct'):
            return multiarray
    except ImportError:  # pragma: no cover - numpy < 1.26
        pass
    from numpy.core import multiarray
    return multiarray


def _numpy_dtype_classes():
    """``numpy.dtypes.*DType`` (numpy >= 1.25): the classes of ``np.dtype(...)`` instances."""
    import numpy as np
    classes = set()
    try:
        import numpy.dtypes as np_dtypes
        classes.update(obj for obj in vars(np_dtypes).values()
                       if isinstance(obj, type) and issubclass(obj, np.dtype) and obj is not np.dtype)
    except ImportError:  # pragma: no cover - numpy < 1.25
        pass
    # anything numpy.dtypes does not list (older numpy, platform aliases)
    for code in np.typecodes['All'] + 'O':
        try:
            classes.add(type(np.dtype(code)))
        except TypeError:  # pragma: no cover
            pass
    classes.add(type(np.dtype([('a', 'f4')])))  # structured -> VoidDType
    classes.discard(np.dtype)
    return sorted(classes, key=lambda c: c.__name__)


class _ClassRef:
    """Stands for a class in the allow-list only as the first argument of :func:`_restricted_getattr`.

    Registering the class itself would also let a checkpoint instantiate it;
    this marker cannot be instantiated or called by the unpickler.
    """

    def __init__(self, path, resolve, names):
        self.path, self._resolve, self.names = path, resolve, frozenset(names)

    def get(self, name):
        if name not in self.names:
            return None
        return getattr(self._resolve(), name)

    def __repr__(self):
        return f'<pjepa3d reference to {self.path}>'


def _one_cycle_scheduler():
    from mmengine.optim.scheduler.param_scheduler import OneCycleParamScheduler
    return OneCycleParamScheduler


# OneCycleLR / OneCycleParamScheduler keep ``anneal_func`` (a staticmethod) in their state_dict
_ONE_CYCLE_REF = _ClassRef('mmengine.optim.scheduler.param_scheduler.OneCycleParamScheduler',
                           _one_cycle_scheduler, ('_annealing_cos', '_annealing_linear'))


def _restricted_getattr(obj, name):
    """``builtins.getattr`` as the unpickler may call it: only the few attributes mmengine pickles.

    Pickle protocol 2 writes a method ``Cls.meth`` as ``getattr(Cls, 'meth')``.
    mmengine checkpoints contain ``HistoryBuffer._statistics_methods``
    (``HistoryBuffer.mean`` / ``.max`` / ``.min`` / ``.current`` and any method
    registered with ``HistoryBuffer.register_statistics``) and, with OneCycleLR,
    ``OneCycleParamScheduler._annealing_cos`` / ``._annealing_linear``. Any other
    ``getattr`` in a checkpoint is refused.
    """
    import pickle

    from mmengine.logging.history_buffer import HistoryBuffer
    if isinstance(name, str) and not name.startswith('__'):
        if obj is HistoryBuffer:
            value = HistoryBuffer.__dict__.get(name)
            if callable(value) and not isinstance(value, type):
                return getattr(HistoryBuffer, name)
        elif isinstance(obj, _ClassRef):
            value = obj.get(name)
            if value is not None:
                return value
    raise pickle.UnpicklingError(
        f'pjepa3d: refusing getattr({obj!r}, {name!r}) in a weights_only checkpoint; only HistoryBuffer '
        'statistics methods and OneCycleParamScheduler annealing functions are allowed')


def _accepts_named_globals():
    """torch >= 2.6 takes ``(object, 'module.name')`` pairs in ``add_safe_globals``."""
    from mmengine.utils import digit_version
    return digit_version(torch.__version__) >= digit_version('2.6.0')


def checkpoint_safe_globals(named=None):
    """The list handed to ``torch.serialization.add_safe_globals``.

    Args:
        named (bool, optional): include ``(object, 'module.name')`` pairs (the
            other numpy's module path, the restricted ``getattr``). Defaults to
            whether this torch accepts them (>= 2.6, the first torch whose
            ``torch.load`` defaults to ``weights_only=True``).
    """
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer

    if named is None:
        named = _accepts_named_globals()
    multiarray = _numpy_multiarray()
    safe = [HistoryBuffer, np.ndarray, np.dtype]
    safe += _numpy_dtype_classes()
    if not named:
        return safe + [multiarray._reconstruct, multiarray.scalar]
    for module in _NUMPY_MULTIARRAY_MODULES:
        safe.append((multiarray._reconstruct, f'{module}._reconstruct'))
        safe.append((multiarray.scalar, f'{module}.scalar'))
    safe.append((_ONE_CYCLE_REF, _ONE_CYCLE_REF.path))
    safe.append((_restricted_getattr, 'builtins.getattr'))
    return safe


def register_checkpoint_safe_globals():
    """Allow-list the objects mmengine 0.10 writes into checkpoints (idempotent).

    Called by ``import pjepa3d``; afterwards plain ``torch.load(path)`` (and so
    mmengine's ``resume`` / ``load_from``) reads checkpoints written by
    ``CheckpointHook`` with ``weights_only=True``.
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:  # torch < 2.4 loads everything anyway
        return
    add_safe_globals(checkpoint_safe_globals())
