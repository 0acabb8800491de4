"""mmdet3d's test visualization hook with a headless bird's-eye view for LiDAR detection."""
import os.path as osp

import mmcv
import numpy as np
from mmengine.fileio import get
from mmengine.logging import print_log
from mmengine.utils import mkdir_or_exist

from mmdet3d.engine.hooks import Det3DVisualizationHook
from mmdet3d.registry import HOOKS
from mmdet3d.structures import LiDARInstance3DBoxes


@HOOKS.register_module()
class Det3DBEVVisualizationHook(Det3DVisualizationHook):
    """``Det3DVisualizationHook`` that also saves LiDAR detections without a display.

    mmdet3d draws ``vis_task='lidar_det'`` with Open3D and saves a picture only from an Open3D window
    (``show=True``, needs a display): with ``show=False`` its test hook writes nothing for LiDAR. Here, for
    ``'lidar_det'`` without ``show``, each test scan is drawn from above with mmdet3d's
    ``Det3DLocalVisualizer`` (``draw_bev_bboxes``, matplotlib): its points in grey, the ground-truth boxes in
    green (``draw_gt``; the ``eval_ann_info`` of a test sample), the predictions above ``score_thr`` in red,
    forward (+y of the LiDAR frame) up, +x right, the sensor at the centre. The picture goes to
    ``<work_dir>/<timestamp>/<test_out_dir>/<scan file stem>.png`` (mmdet3d's place, as ``tools/test.py
    --show-dir``), or to the visualizer's backends when ``test_out_dir`` is None. Other tasks and ``show=True``
    behave exactly as mmdet3d's hook.

    Args:
        bev_range (float): half side of the drawn square around the sensor (m).
        bev_scale (int): pixels per metre.
        draw_gt (bool): draw the ground-truth boxes too (mmdet3d's default is False).
        **kwargs: the arguments of mmdet3d's ``Det3DVisualizationHook`` (``draw``, ``score_thr``, ``vis_task``,
            ``show``, ``test_out_dir``, ...).
    """

    def __init__(self, bev_range=51.2, bev_scale=10, draw_gt=True, **kwargs):
        super().__init__(draw_gt=draw_gt, **kwargs)
        self.bev_range = float(bev_range)
        self.bev_scale = int(bev_scale)
        self._bev_dir = None
        self._bev_saved = []

    def _draws_bev(self):
        return self.draw and self.vis_task == 'lidar_det' and not self.show

    def before_test(self, runner):
        self._bev_saved = []
        if self._draws_bev() and self.test_out_dir is not None:
            # mmdet3d joins this onto test_out_dir at every iteration; here once
            self._bev_dir = osp.join(runner.work_dir, runner.timestamp, self.test_out_dir)
            mkdir_or_exist(self._bev_dir)

    def after_test_iter(self, runner, batch_idx, data_batch, outputs):
        if not self._draws_bev():
            return super().after_test_iter(runner, batch_idx, data_batch, outputs)
        for data_sample in outputs:
            self._test_index += 1
            points = np.frombuffer(get(data_sample.lidar_path, backend_args=self.backend_args), dtype=np.float32)
            points = points.reshape(-1, data_sample.num_pts_feats)
            pred = data_sample.pred_instances_3d
            pred = pred[pred.scores_3d > self.score_thr].to('cpu')
            image = self.draw_bev(points, self._gt_boxes(data_sample) if self.draw_gt else None,
                                  pred.bboxes_3d if self.draw_pred else None)
            if self._bev_dir is None:
                self._visualizer.add_image('test sample', image, step=self._test_index)
                continue
            out_file = osp.join(self._bev_dir, osp.basename(data_sample.lidar_path).split('.')[0] + '.png')
            mmcv.imwrite(image[..., ::-1], out_file)
            self._bev_saved.append(out_file)

    def after_test_epoch(self, runner, metrics=None):
        if self._bev_saved:
            print_log(f'bird\'s-eye views of {len(self._bev_saved)} scans saved to {self._bev_dir}', logger='current')

    @staticmethod
    def _gt_boxes(data_sample):
        """Ground-truth boxes of a sample: ``eval_ann_info`` (test pipelines) or ``gt_instances_3d`` (val)."""
        info = data_sample.get('eval_ann_info')
        if isinstance(info, dict) and info.get('gt_bboxes_3d') is not None:
            return info['gt_bboxes_3d']
        if 'gt_instances_3d' in data_sample and 'bboxes_3d' in data_sample.gt_instances_3d:
            return data_sample.gt_instances_3d.bboxes_3d
        return None

    def _to_canvas(self, boxes):
        """LiDAR boxes -> boxes whose BEV is in ``draw_bev_bboxes``' pixel frame of the image (row 0 at the top):
        mirror y (row = (range - y) * scale, yaw -> -yaw); ``draw_bev_bboxes`` scales and shifts x by half the width."""
        t = boxes.tensor.detach().cpu().clone()
        t[:, 1] = self.bev_range - t[:, 1]
        t[:, 6] = -t[:, 6]
        return LiDARInstance3DBoxes(t, box_dim=t.shape[1], with_yaw=True)

    def draw_bev(self, points, gt_boxes=None, pred_boxes=None):
        """Points (N, >=2) and LiDAR boxes -> RGB bird's-eye view (H, W, 3) uint8."""
        r, s = self.bev_range, self.bev_scale
        size = int(round(2 * r * s))
        canvas = np.full((size, size, 3), 20, dtype=np.uint8)
        col = np.floor((points[:, 0] + r) * s).astype(np.int64)
        row = np.floor((r - points[:, 1]) * s).astype(np.int64)
        inside = (col >= 0) & (col < size) & (row >= 0) & (row < size)
        canvas[row[inside], col[inside]] = 150
        vis = self._visualizer
        vis.set_image(canvas)
        legend = []
        for boxes, color, name in ((gt_boxes, (0, 255, 0), 'ground truth'), (pred_boxes, (255, 60, 60), 'predicted')):
            if boxes is None:
                continue
            centres = boxes.tensor[:, :2].detach().cpu()
            in_view = ((centres >= -r) & (centres < r)).all(dim=1)
            if bool(in_view.any()):
                vis.draw_bev_bboxes(self._to_canvas(boxes[in_view]), scale=s, edge_colors=color, line_widths=1.5)
            outside = len(boxes) - int(in_view.sum())
            legend.append((f'{name}: {int(in_view.sum())}' + (f' (+{outside} outside the view)' if outside else ''),
                           color))
        for i, (text, color) in enumerate(legend):
            vis.draw_texts(text, np.array([10, 10 + 22 * i]), colors=color, font_sizes=14, vertical_alignments='top')
        # boxes across the border must not widen the axes beyond the image
        vis.ax_save.set_xlim(0, size)
        vis.ax_save.set_ylim(size, 0)
        return vis.get_image()
