"""benchmarks/ablations/block_probe.py: per-block features, on all tokens or on the masker's context tokens."""
import torch

from tests.conftest import load_script
from tests.test_models.test_point_jepa import _tiny_jepa


def test_block_features_all_and_context_tokens():
    probe = load_script('benchmarks/ablations/block_probe.py')
    torch.manual_seed(0)
    model = _tiny_jepa()
    bb = model.backbone
    x = torch.rand(5, 64, 3)
    full = probe.block_features(bb, x, batch=2)
    assert len(full) == bb.encoder.depth + 1 and all(f.shape == (5, 96) for f in full)
    torch.testing.assert_close(torch.from_numpy(full[-1]), bb.extract_feat(x))  # final LN = the benchmark's
    ctx = probe.block_features(bb, x, batch=2, masker=model.masker)
    again = probe.block_features(bb, x, batch=2, masker=model.masker)
    for a, b in zip(ctx, again):  # the masks are seeded per batch: the same subsets every call
        assert (a == b).all()
    # the last batch (cloud 4) by hand: its context tokens only
    torch.manual_seed(1000 + 4)
    patches = bb.tokenize(x[4:])
    idx = model.masker(patches.centres).context_idx
    assert idx.shape[1] == 8  # 16 tokens, half of them targets
    feats = bb.encode(patches.tokens, patches.pos, idx).features
    torch.testing.assert_close(torch.from_numpy(ctx[-1][4:]), torch.cat([feats.amax(1), feats.mean(1)], -1))
    assert not torch.allclose(torch.from_numpy(ctx[-1]), torch.from_numpy(full[-1]), atol=1e-3)
