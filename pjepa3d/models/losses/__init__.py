from .chamfer import ChamferL2Loss, chamfer_l2
from .latent_losses import LatentMSELoss, LatentSmoothL1Loss, masked_mean
from .variance_covariance import VarianceCovarianceLoss

__all__ = ['ChamferL2Loss', 'chamfer_l2', 'LatentMSELoss', 'LatentSmoothL1Loss', 'masked_mean',
           'VarianceCovarianceLoss']
