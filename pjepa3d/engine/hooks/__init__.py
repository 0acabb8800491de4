from .ema_hook import EMA_SCHEDULES, EMAHook, ema_momentum

__all__ = ['EMA_SCHEDULES', 'EMAHook', 'ema_momentum']
from .collapse_monitor_hook import CollapseMonitorHook, RepresentationCollapseWarning

__all__ += ['CollapseMonitorHook', 'RepresentationCollapseWarning']
from .cls_test_hooks import TestBestAndLastHook, TestVotingHook
from .freeze_backbone_hook import FreezeBackboneHook

__all__ += ['FreezeBackboneHook', 'TestBestAndLastHook', 'TestVotingHook']
from .probe_hook import ProbeAtStartHook

__all__ += ['ProbeAtStartHook']
from .bn_calibration_hook import BNCalibrationHook

__all__ += ['BNCalibrationHook']
from .rng_state_hook import RNGStateHook, seed_worker

__all__ += ['RNGStateHook', 'seed_worker']
