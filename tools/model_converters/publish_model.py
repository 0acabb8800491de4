"""Make a checkpoint ready to share: drop the optimizer / scheduler / message-hub state, keep the weights and
the meta, and put the first 8 hex digits of the file's SHA-256 in its name (mmdet3d's / mmpretrain's tool).

    python tools/model_converters/publish_model.py IN.pth OUT.pth [--no-ckpt-suffix]

writes OUT-<sha256[:8]>.pth (or OUT.pth with --no-ckpt-suffix), atomically, and prints its path, size and
hash. The published file loads with init_model / init_cfg / load_from like the original.
"""
import argparse
import hashlib
import os
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
import pjepa3d  # noqa: E402,F401  registers the torch.load safe globals for mmengine checkpoints

KEEP = ('state_dict', 'meta')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('in_file', help='the training checkpoint')
    p.add_argument('out_file', help='the published checkpoint (the hash is added before .pth)')
    p.add_argument('--no-ckpt-suffix', action='store_true', help='do not add the hash to the file name')
    return p.parse_args(argv)


def publish(in_file, out_file, add_hash=True):
    """Write the slim checkpoint; return its final path and its SHA-256."""
    ckpt = torch.load(in_file, map_location='cpu')
    if not isinstance(ckpt, dict) or 'state_dict' not in ckpt:
        raise SystemExit(f'{in_file}: not an mmengine checkpoint (no state_dict; top-level keys: '
                         f'{list(ckpt)[:10] if isinstance(ckpt, dict) else type(ckpt).__name__})')
    slim = {k: ckpt[k] for k in KEEP if k in ckpt}
    slim.setdefault('meta', {})
    for key in ('hook_msgs',):  # best-checkpoint bookkeeping of the training run
        slim['meta'].pop(key, None)
    out_file = osp.abspath(out_file)
    os.makedirs(osp.dirname(out_file), exist_ok=True)
    tmp = f'{out_file}.tmp.{os.getpid()}'
    try:
        torch.save(slim, tmp)
        sha = hashlib.sha256()
        with open(tmp, 'rb') as f:
            for block in iter(lambda: f.read(1 << 20), b''):
                sha.update(block)
        digest = sha.hexdigest()
        stem = out_file[:-4] if out_file.endswith('.pth') else out_file
        final = f'{stem}-{digest[:8]}.pth' if add_hash else f'{stem}.pth'
        os.replace(tmp, final)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return final, digest


def main(argv=None):
    args = parse_args(argv)
    final, digest = publish(args.in_file, args.out_file, add_hash=not args.no_ckpt_suffix)
    before, after = osp.getsize(args.in_file), osp.getsize(final)
    print(f'published {final} ({after / 2 ** 20:.2f} MiB, was {before / 2 ** 20:.2f} MiB; sha256 {digest})')
    return final


if __name__ == '__main__':
    main()
