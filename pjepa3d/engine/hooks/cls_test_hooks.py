"""Classification test-time behaviour: voting in the test loop only, and 'last' vs 'best-on-val' test numbers."""
import json
import os.path as osp

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from pjepa3d.registry import HOOKS


def _unwrap(runner):
    return runner.model.module if is_model_wrapper(runner.model) else runner.model


@HOOKS.register_module()
class TestVotingHook(Hook):
    """Set the classifier's ``num_votes`` while the test loop runs (validation keeps its own setting).

    Args:
        num_votes (int): test-time augmentation votes (10 in the papers); 1 disables voting.
    """

    def __init__(self, num_votes=10):
        if int(num_votes) < 1:
            raise ValueError(f'TestVotingHook: num_votes must be >= 1, got {num_votes}')
        self.num_votes = int(num_votes)
        self._saved = None

    def before_test(self, runner):
        model = _unwrap(runner)
        self._saved = model.num_votes
        model.num_votes = self.num_votes
        runner.logger.info(f'TestVotingHook: testing with {self.num_votes} vote(s)')

    def after_test(self, runner):
        if self._saved is not None:
            _unwrap(runner).num_votes = self._saved
            self._saved = None


@HOOKS.register_module()
class TestBestAndLastHook(Hook):
    """After training, evaluate the test split twice: with the last weights and with the ``best``
    checkpoint that ``CheckpointHook(save_best=...)`` chose on the validation split.

    The test split is never used for selection: it is only evaluated here, after training. Prints
    both results and writes them to ``<work_dir>/test_last_and_best.json`` (with ``correct``, which test samples
    each got right, when the evaluator has an ``Accuracy`` metric: what a paired test of two runs compares).
    Afterwards the model holds the best weights. Needs ``test_dataloader`` / ``test_evaluator`` / ``test_cfg`` in
    the config.
    """

    priority = 'LOWEST'

    def after_train(self, runner):
        if runner._test_loop is None:
            runner.logger.warning('TestBestAndLastHook: the config has no test_cfg / test_dataloader; skipped')
            return
        if isinstance(runner._test_loop, dict):
            runner._test_loop = runner.build_test_loop(runner._test_loop)
        hub = runner.message_hub

        def test():
            out = dict(metrics=runner.test_loop.run())
            correct = [m.last_correct for m in runner.test_loop.evaluator.metrics
                       if getattr(m, 'last_correct', None) is not None]
            if correct:
                out['correct'] = correct[0]
            return out

        results = dict(last=dict(epoch=runner.epoch, iter=runner.iter, **test()))
        best = {k: v for k, v in hub.runtime_info.items() if k.startswith('best_ckpt')}
        if not best:
            runner.logger.warning('TestBestAndLastHook: no best checkpoint recorded (set '
                                  'default_hooks.checkpoint.save_best and a val split); only the last weights '
                                  'were tested')
        for key, path in best.items():
            ckpt = runner.load_checkpoint(path, map_location='cpu')
            meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
            score_key = key.replace('best_ckpt', 'best_score')
            results[key.replace('best_ckpt', 'best')] = dict(
                checkpoint=path, epoch=meta.get('epoch'), iter=meta.get('iter'),
                val_score=hub.runtime_info.get(score_key), **test())
        if runner.rank == 0:
            out = osp.join(runner.work_dir, 'test_last_and_best.json')
            with open(out, 'w') as f:
                json.dump(results, f, indent=2, default=float)
            lines = ['[pjepa3d] test split, evaluated after training (selection used the val split only):']
            for name, r in results.items():
                where = f"epoch {r['epoch']}" if r.get('epoch') is not None else f"iter {r.get('iter')}"
                extra = f", val score {r['val_score']:.4g}" if r.get('val_score') is not None else ''
                metrics = ', '.join(f'{k}: {v:.2f}' for k, v in r['metrics'].items())
                lines.append(f'  {name:5s} ({where}{extra}): {metrics}')
            lines.append(f'  written to {out}')
            runner.logger.info('\n'.join(lines))
