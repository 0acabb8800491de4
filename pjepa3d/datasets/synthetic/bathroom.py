"""Bathroom fixtures: toilet and bathtub (y up, front towards +z)."""
import numpy as np


def toilet(mb, rng):
    u = rng.uniform
    seat, rim = u(0.38, 0.45), u(0.17, 0.22)
    bowl_r = np.array([0.5, 0.6, 0.8, 0.95, 1.0]) * rim
    bowl_y = seat - np.array([0.22, 0.17, 0.1, 0.04, 0.0])
    elongate = u(1.1, 1.4)
    mb.vessel(bowl_r, bowl_y, 0.02, segments=20, scale=(1, 1, elongate))
    mb.cylinder(rim * 0.5, seat - 0.2, r_top=rim * 0.55, at=(0, (seat - 0.2) / 2, -0.02), segments=16, caps=False)
    if rng.random() < 0.5:  # seat ring, lid up or closed
        mb.torus(rim * 0.85, 0.02, at=(0, seat + 0.02, 0), segments=20, sides=6, scale=(1, 1, elongate))
    else:
        mb.ellipsoid((rim, 0.025, rim * elongate), at=(0, seat + 0.02, 0), rings=4, segments=16)
    tank_w, tank_h, tank_d = u(0.35, 0.5), u(0.3, 0.45), u(0.15, 0.22)
    if rng.random() < 0.85:
        mb.box((tank_w, tank_h, tank_d), at=(0, seat + tank_h / 2 - 0.05, -rim * elongate - tank_d / 2 + 0.03))


def bathtub(mb, rng):
    u = rng.uniform
    length, w, h, t = u(1.4, 1.8), u(0.7, 0.9), u(0.45, 0.6), u(0.04, 0.1)
    if rng.random() < 0.5:  # oval tub: a vessel stretched along z
        r = np.array([0.8, 0.9, 0.97, 1.0])
        y = np.array([0.0, 0.15, 0.6, 1.0]) * h
        mb.vessel(r, y, t / (w / 2), segments=24, scale=(w / 2, 1, length / 2))
        if rng.random() < 0.5:  # claw feet
            for sx in (-1, 1):
                for sz in (-1, 1):
                    mb.ellipsoid((0.05, 0.06, 0.05), at=(sx * w * 0.3, -0.04, sz * length * 0.35), rings=4,
                                 segments=8)
        return
    mb.boxes([(w, t, length), (t, h, length), (t, h, length), (w, h, t), (w, h, t)],
             [(0, t / 2, 0), (-(w - t) / 2, h / 2, 0), ((w - t) / 2, h / 2, 0), (0, h / 2, -(length - t) / 2),
              (0, h / 2, (length - t) / 2)])
    if rng.random() < 0.4:  # built-in apron along one long side
        mb.box((0.03, h, length + 0.04), at=(w / 2 + 0.02, h / 2, 0))
