"""Household objects, mostly surfaces of revolution: lamp, mug, bottle, vase, bowl."""
import numpy as np

from .mesh import align_y, rot_x


def lamp(mb, rng):
    u = rng.uniform
    base_h = u(0.02, 0.06)
    if rng.random() < 0.3:
        mb.box((u(0.15, 0.4), base_h, u(0.15, 0.4)), at=(0, base_h / 2, 0))
    else:
        mb.cylinder(u(0.08, 0.25), base_h, r_top=u(0.05, 0.2), at=(0, base_h / 2, 0), segments=20)
    if rng.random() < 0.6:  # straight pole with a shade
        h, shade_h = u(0.4, 1.6), u(0.15, 0.4)
        mb.tube((0, base_h, 0), (0, h, 0), u(0.01, 0.03), segments=8)
        r_bottom = u(0.12, 0.35)
        mb.lathe([r_bottom, r_bottom * u(0.4, 1.0)], [h - 0.6 * shade_h, h + 0.4 * shade_h], 24)
        if rng.random() < 0.3:
            mb.ellipsoid((0.05, 0.07, 0.05), at=(0, h - 0.1 * shade_h, 0), rings=6, segments=10)
        return
    # desk lamp: two arm segments and a shade pointing down
    joint0 = np.array([0, base_h, 0])
    a1, a2 = u(-0.5, 0.5), u(0.6, 2.0)
    joint1 = joint0 + u(0.3, 0.6) * np.array([np.sin(a1), np.cos(a1), 0])
    joint2 = joint1 + u(0.25, 0.5) * np.array([np.sin(a2), np.cos(a2), 0])
    radius = u(0.01, 0.025)
    mb.tube(joint0, joint1, radius, segments=8).tube(joint1, joint2, radius, segments=8)
    mb.ellipsoid((1.5 * radius,) * 3, at=joint1, rings=4, segments=8)
    b = u(0.0, 1.0)
    r_mouth, depth = u(0.07, 0.18), u(0.08, 0.22)
    mb.lathe([0, 0.03, r_mouth], [0, 0, depth], 20, at=joint2, rot=align_y([np.sin(b), -np.cos(b), 0]))


def mug(mb, rng):
    u = rng.uniform
    radius, h, taper, bulge = u(0.25, 0.45), u(0.5, 1.0), u(0.8, 1.05), u(-0.05, 0.08)
    y = np.linspace(0, h, 6)
    r = radius * (taper + (1 - taper) * y / h + bulge * np.sin(np.pi * y / h))
    mb.vessel(np.concatenate([[r[0] * 0.92], r]), np.concatenate([[0], y + 0.02 * h]), u(0.02, 0.05), segments=24)
    yc = u(0.4, 0.6) * h
    r_c = np.interp(yc, y, r)
    handle, thick = u(0.18, 0.32) * h, u(0.025, 0.05)
    mb.torus(handle, thick, at=(r_c - thick, yc, 0), rot=rot_x(np.pi / 2), arc=np.pi, phase=-np.pi / 2,
             segments=12, sides=8)


def bottle(mb, rng):
    u = rng.uniform
    radius, body = u(0.15, 0.35), u(0.4, 1.0)
    shoulder, neck_r, neck_h = u(0.08, 0.35), radius * u(0.2, 0.45), u(0.1, 0.35)
    t = np.linspace(0, 1, 6)
    waist = 1 - u(0, 0.15) * np.sin(np.pi * np.linspace(0, 1, 4)) if rng.random() < 0.4 else np.ones(4)
    r = np.concatenate([[0, radius * 0.9], radius * waist, neck_r + (radius - neck_r) * np.cos(t * np.pi / 2) ** 1.5,
                        [neck_r, neck_r * 1.2, neck_r * 1.2, 0]])
    top = body + shoulder + neck_h
    y = np.concatenate([[0, 0], np.linspace(0.03, body, 4), body + shoulder * t,
                        [top, top, top + 0.04, top + 0.04]])
    square = rng.random() < 0.15
    mb.lathe(r * (np.sqrt(2) if square else 1), y, 4 if square else 20, phase=np.pi / 4 if square else 0)


def vase(mb, rng):
    u = rng.uniform
    h, r0 = u(0.6, 1.6), u(0.15, 0.4)
    y = np.linspace(0, h, 10)
    if rng.random() < 0.35:  # flower pot: straight flare and a rim
        r = r0 * (1 + u(0.1, 0.6) * y / h)
        r[-2:] *= 1.08
        y = y * u(0.4, 0.8)
    else:
        s = y / h
        r = r0 * (1 + u(-0.5, 0.5) * np.sin(np.pi * s * u(0.5, 2.0) + u(0, np.pi)) + u(-0.3, 0.3) * s)
    r = np.maximum(r, 0.05)
    mb.vessel(r, y, u(0.015, 0.04), segments=20)
    if rng.random() < 0.3:  # foliage
        top = y[-1]
        for _ in range(int(rng.integers(1, 4))):
            mb.ellipsoid(u(0.1, 0.3, 3) * r0 * 2, at=(u(-r0, r0), top + u(0.05, 0.3), u(-r0, r0)), rings=6, segments=10)


def bowl(mb, rng):
    u = rng.uniform
    radius, depth, tmax = u(0.4, 0.8), u(0.25, 0.6), np.pi / 2 * u(0.8, 1.05)
    th = np.linspace(0.15, tmax, 7)
    r = radius * np.sin(th) / np.sin(tmax)
    y = radius * depth * (1 - np.cos(th)) / (1 - np.cos(tmax))
    mb.vessel(r, y, u(0.015, 0.04), segments=24)
    if rng.random() < 0.6:  # foot ring
        fr = r[0] * u(1.2, 2.0)
        mb.cylinder(fr, u(0.02, 0.05), r_top=fr * 0.9, at=(0, -0.01, 0), segments=20)
