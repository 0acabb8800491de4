"""Single parametric solids with random proportions (y up, size ~1)."""
import numpy as np


def ellipsoid(mb, rng):
    mb.ellipsoid(rng.uniform(0.4, 1.0, 3) if rng.random() < 0.75 else np.ones(3), rings=12, segments=24)


def box(mb, rng):
    size = rng.uniform(0.2, 1.0, 3)
    if rng.random() < 0.3:  # open-topped crate: floor + 4 walls
        sx, sy, sz = size
        t = rng.uniform(0.02, 0.06) * size.max()
        mb.boxes([(sx, t, sz), (t, sy, sz), (t, sy, sz), (sx, sy, t), (sx, sy, t)],
                 [(0, t / 2, 0), (-sx / 2, sy / 2, 0), (sx / 2, sy / 2, 0), (0, sy / 2, -sz / 2), (0, sy / 2, sz / 2)])
    else:
        mb.box(size)


def cylinder(mb, rng):
    r, h = rng.uniform(0.2, 0.7), rng.uniform(0.3, 2.0)
    if rng.random() < 0.3:  # pipe: open at both ends, with an inner wall
        ri = r * rng.uniform(0.6, 0.9)
        mb.lathe([ri, r, r, ri, ri], [-h / 2, -h / 2, h / 2, h / 2, -h / 2], 24)
    else:
        mb.cylinder(r, h, segments=24)


def cone(mb, rng):
    r, h = rng.uniform(0.3, 0.9), rng.uniform(0.5, 2.0)
    mb.cylinder(r, h, r_top=r * rng.uniform(0.05, 0.5) if rng.random() < 0.3 else 0.0, segments=24)


def torus(mb, rng):
    mb.torus(1.0, rng.uniform(0.12, 0.5), segments=28, sides=12)


def pyramid(mb, rng):
    sides = rng.choice([3, 4, 4, 4, 5, 6])
    h = rng.uniform(0.5, 1.6)
    top = rng.uniform(0.15, 0.5) if rng.random() < 0.3 else 0.0
    mb.lathe([0, 1, top, 0], [0, 0, h, h], int(sides), phase=np.pi / sides)


def capsule(mb, rng):
    r, length = rng.uniform(0.2, 0.5), rng.uniform(0.3, 2.0)
    mb.capsule((0, -length / 2, 0), (0, length / 2, 0), r, segments=20, rings=5)
