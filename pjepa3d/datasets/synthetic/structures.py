"""Architectural objects: stairs, door, tent, curtain (y up, front towards +z)."""
import numpy as np

from .mesh import slab


def stairs(mb, rng):
    u = rng.uniform
    n, rise, run, w = int(rng.integers(3, 12)), u(0.12, 0.2), u(0.2, 0.35), u(0.6, 1.5)
    k = np.arange(1, n + 1)
    sizes = np.stack([np.full(n, w), rise * k, np.full(n, run)], 1)
    centres = np.stack([np.zeros(n), rise * k / 2, -k * run], 1)
    mb.boxes(sizes, centres)
    if rng.random() < 0.5:  # handrail on posts
        side = w / 2 - 0.03
        posts = [(side, rise * k[i], -k[i] * run) for i in (0, n - 1)]
        for x, y, z in posts:
            mb.tube((x, y, z), (x, y + 0.85, z), 0.02, segments=6)
        mb.tube((side, posts[0][1] + 0.85, posts[0][2]), (side, posts[1][1] + 0.85, posts[1][2]), 0.025, segments=6)


def door(mb, rng):
    u = rng.uniform
    w, h, t = u(0.7, 1.0), u(1.9, 2.2), u(0.03, 0.06)
    mb.box((w, h, t), at=(0, h / 2, 0))
    if rng.random() < 0.6:  # frame
        f = u(0.04, 0.1)
        mb.boxes([(f, h + f, t * 2), (f, h + f, t * 2), (w + 2 * f, f, t * 2)],
                 [(-(w + f) / 2, (h + f) / 2, 0), ((w + f) / 2, (h + f) / 2, 0), (0, h + f / 2, 0)])
    if rng.random() < 0.5:  # raised panels
        rows = int(rng.integers(1, 4))
        ph = h * 0.8 / rows
        mb.boxes(np.tile([w * 0.7, ph * 0.8, 0.01], (rows, 1)),
                 np.stack([np.zeros(rows), h * 0.1 + ph * (np.arange(rows) + 0.5), np.full(rows, t / 2 + 0.005)], 1))
    side = w / 2 - u(0.06, 0.1)
    for sz in (-1, 1):
        mb.ellipsoid((0.03, 0.03, 0.03), at=(side, h * 0.48, sz * (t / 2 + 0.04)), rings=4, segments=8)


def tent(mb, rng):
    u = rng.uniform
    w, length, h = u(1.2, 2.5), u(1.5, 2.8), u(0.9, 1.6)
    r = rng.random()
    if r < 0.4:  # ridge tent: a triangular prism
        mb.hexahedron(slab(w / 2, (0, h), (-length / 2, length / 2), (-length / 2, length / 2), 1e-3))
    elif r < 0.7:  # dome
        t = np.linspace(0, np.pi / 2, 7)
        mb.lathe(np.concatenate([[0], np.cos(t)]), np.concatenate([[0], np.sin(t)]), 24,
                 scale=(w / 2, h, length / 2))
    else:  # pyramid / teepee
        sides = int(rng.choice([4, 6, 8]))
        mb.lathe([0, 1, 0.05, 0], [0, 0, 1, 1], sides, phase=np.pi / sides, scale=(w / 2, h, w / 2))
        if rng.random() < 0.5:
            mb.tube((0, h * 0.9, 0), (0, h * 1.15, 0), 0.02, segments=6)


def curtain(mb, rng):
    u = rng.uniform
    w, h = u(1.0, 2.5), u(1.2, 2.5)
    rows, cols = 6, 48
    x = np.linspace(-w / 2, w / 2, cols)
    y = np.linspace(0, h, rows)
    amp = u(0.03, 0.1) * (1 + u(0, 1.5) * (1 - y / h))[:, None]  # folds widen towards the hem
    z = amp * np.sin(2 * np.pi * u(4, 10) * x / w + u(0, 2 * np.pi))[None, :]
    grid = np.stack(np.broadcast_arrays(x[None, :], y[:, None], z), -1)
    if rng.random() < 0.5:  # two panels with a gap
        gap = u(0.05, 0.4)
        mb.sheet(grid[:, :cols // 2] - [gap / 2, 0, 0]).sheet(grid[:, cols // 2:] + [gap / 2, 0, 0])
    else:
        mb.sheet(grid)
    mb.tube((-w / 2 - 0.1, h + 0.03, 0), (w / 2 + 0.1, h + 0.03, 0), 0.015, segments=6)
