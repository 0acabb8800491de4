from .bf16_amp_optim_wrapper import BF16AmpOptimWrapper
from .summary_constructor import SummaryOptimWrapperConstructor

__all__ = ['BF16AmpOptimWrapper', 'SummaryOptimWrapperConstructor']
