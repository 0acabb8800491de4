from .chamfer import ChamferL2Loss, chamfer_l2

__all__ = ['ChamferL2Loss', 'chamfer_l2']
