from .ema_hook import EMA_SCHEDULES, EMAHook, ema_momentum

__all__ = ['EMA_SCHEDULES', 'EMAHook', 'ema_momentum']
from .collapse_monitor_hook import CollapseMonitorHook, RepresentationCollapseWarning

__all__ += ['CollapseMonitorHook', 'RepresentationCollapseWarning']
