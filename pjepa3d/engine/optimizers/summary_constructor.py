"""mmengine's default optimizer-wrapper constructor with a readable log: one summary instead of a line per tensor.

With a ``paramwise_cfg``, mmengine's ``DefaultOptimWrapperConstructor`` logs a WARNING for every parameter it
leaves out (``requires_grad=False``: Point-JEPA's EMA target, a frozen backbone in a linear probe; or a module
shared by two owners under ``bypass_duplicate``) and an INFO line for every tensor a rule touches. For a ViT-S
Point-JEPA that is a few hundred lines at the top of every log, and a real warning drowns in them. This
constructor builds exactly the same param groups (it calls mmengine's constructor unchanged) and replaces those
per-tensor lines by one summary: how many tensors and values are optimised, grouped by (lr, weight decay), and
how many were left out and under which top-level modules.
"""
import logging
import re
from collections import Counter

from mmengine.logging import MMLogger, print_log
from mmengine.optim import DefaultOptimWrapperConstructor

from pjepa3d.registry import OPTIM_WRAPPER_CONSTRUCTORS

# the per-tensor messages of mmengine 0.10's DefaultOptimWrapperConstructor.add_params
_PER_TENSOR = re.compile(r'is skipped since its requires_grad=|is duplicate\. It is skipped since bypass_duplicate=|'
                         r'^paramwise_options -- ')


class _DropPerTensorLines(logging.Filter):

    def filter(self, record):
        return not _PER_TENSOR.search(record.getMessage())


def _num(v):
    return '-' if v is None else f'{v:g}'


def _by_top_module(names):
    counts = Counter(n.split('.', 1)[0] for n in names)
    return ', '.join(f'{m} ({c})' for m, c in sorted(counts.items()))


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SummaryOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """``DefaultOptimWrapperConstructor`` (same param groups, same optimizer) that logs one summary.

    Select it in a config with ``optim_wrapper = dict(..., constructor='pjepa3d.SummaryOptimWrapperConstructor')``.
    The summary (logger ``current``, level INFO) reads, e.g.::

        optimizer AdamW: 134 trainable tensors (3,192,160 values): lr 5e-05 wd 0.05: 45 tensors (3,170,880
        values); lr 5e-05 wd 0: 89 tensors (21,280 values) | left out: 74 frozen tensors (requires_grad=False)
        under target (74)

    (the ViT-T demo config). Shared modules skipped under ``bypass_duplicate`` are counted once, as
    ``model.named_parameters()`` counts them.
    """

    def __call__(self, model):
        logger = MMLogger.get_current_instance()
        drop = _DropPerTensorLines()
        logger.addFilter(drop)
        try:
            wrapper = super().__call__(model)
        finally:
            logger.removeFilter(drop)
        print_log(self.summary(model, wrapper.optimizer), logger='current', level=logging.INFO)
        return wrapper

    @staticmethod
    def summary(model, optimizer):
        """One line: the optimised tensors grouped by (lr, weight decay), and the frozen ones left out."""
        model = getattr(model, 'module', model)
        optimised, settings = set(), Counter()
        values = Counter()
        for group in optimizer.param_groups:
            key = (group.get('lr'), group.get('weight_decay'))
            for p in group['params']:
                if p.requires_grad and id(p) not in optimised:
                    optimised.add(id(p))
                    settings[key] += 1
                    values[key] += p.numel()
        parts = [f'lr {_num(lr)} wd {_num(wd)}: {settings[(lr, wd)]} tensors ({values[(lr, wd)]:,} values)'
                 for lr, wd in sorted(settings, key=lambda k: (-values[k], str(k)))]
        line = (f'optimizer {type(optimizer).__name__}: {len(optimised)} trainable tensors '
                f'({sum(values.values()):,} values): ' + '; '.join(parts))
        frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
        if frozen:
            line += (f' | left out: {len(frozen)} frozen tensors (requires_grad=False) under '
                     f'{_by_top_module(frozen)}')
        return line
