"""CenterPoint with dynamic voxelisation (mmdet3d ships it for MVX-Faster-RCNN, not for CenterPoint)."""
from mmdet3d.models.detectors import CenterPoint
from mmdet3d.registry import MODELS


@MODELS.register_module()
class CenterPointDynamic(CenterPoint):
    """mmdet3d's ``CenterPoint`` whose voxel encoder takes dynamically voxelised points.

    Only the call into ``pts_voxel_encoder`` differs: it gets every point with its voxel coordinate,
    ``(voxels (N, C), coors (N, 4), points, img_feats, batch_input_metas)``, and returns
    ``(voxel_feats (P, C'), voxel_coors (P, 4))`` (``DynamicPillarFeatureNet``'s interface) instead of
    padded voxels with point counts. The middle encoder, backbone, neck and head are used unchanged.
    """

    def extract_pts_feat(self, voxel_dict, points=None, img_feats=None, batch_input_metas=None):
        """Voxel dict of ``Det3DDataPreprocessor(voxel_type='dynamic')`` -> neck feature maps."""
        if not self.with_pts_bbox:
            return None
        voxel_feats, voxel_coors = self.pts_voxel_encoder(voxel_dict['voxels'], voxel_dict['coors'], points,
                                                          img_feats, batch_input_metas)
        if batch_input_metas is not None:
            batch_size = len(batch_input_metas)
        else:
            batch_size = int(voxel_dict['coors'][-1, 0]) + 1
        x = self.pts_middle_encoder(voxel_feats, voxel_coors, batch_size)
        x = self.pts_backbone(x)
        if self.with_pts_neck:
            x = self.pts_neck(x)
        return x
