from .bf16_amp_optim_wrapper import BF16AmpOptimWrapper, cpu_bf16_slow_reason, cpu_has_bf16_path
from .summary_constructor import SummaryOptimWrapperConstructor

__all__ = ['BF16AmpOptimWrapper', 'SummaryOptimWrapperConstructor', 'cpu_bf16_slow_reason', 'cpu_has_bf16_path']
