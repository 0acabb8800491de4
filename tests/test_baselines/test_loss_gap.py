"""benchmarks/ablations/loss_gap.py: the loss of held-out clouds against the clouds a model was trained on."""
import torch

from tests.conftest import load_script
from tests.test_models.test_point_jepa import _tiny_jepa


def test_mean_loss_draws_alike_and_shows_memorised_clouds():
    gap = load_script('benchmarks/ablations/loss_gap.py')
    torch.manual_seed(0)
    seen, unseen = torch.rand(1, 64, 3), torch.rand(1, 64, 3)
    model = _tiny_jepa(target_norm='instance')
    assert gap.mean_loss(model, seen, 2, seed=3) == gap.mean_loss(model, seen, 2, seed=3)  # same draws each call
    assert gap.mean_loss(model, seen, 2, seed=3) != gap.mean_loss(model, seen, 2, seed=4)
    before = gap.mean_loss(model, seen, 2, seed=3) - gap.mean_loss(model, unseen, 2, seed=3)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(300):  # memorise the seen cloud
        model.loss(seen)['loss'].backward()
        opt.step()
        opt.zero_grad()
        model.update_target(0.99)
    after = gap.mean_loss(model, unseen, 2, seed=3) - gap.mean_loss(model, seen, 2, seed=3)
    assert abs(before) < 0.05 and after > 0.1, (before, after)
