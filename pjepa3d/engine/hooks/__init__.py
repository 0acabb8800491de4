from .ema_hook import EMA_SCHEDULES, EMAHook, ema_momentum

__all__ = ['EMA_SCHEDULES', 'EMAHook', 'ema_momentum']
