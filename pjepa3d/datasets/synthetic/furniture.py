"""Furniture assembled from parts: tables, chairs, stools, shelves, beds, sofas (y up, metres-ish)."""
import numpy as np

from .mesh import rot_x


def _legs(mb, rng, tops, bottom_y, top_y, radius, splay=0.0):
    """One leg per (x, z) in ``tops``, square or round, feet pushed outwards by ``splay``."""
    segments = 4 if rng.random() < 0.5 else 10
    for x, z in tops:
        mb.tube((x * (1 + splay), bottom_y, z * (1 + splay)), (x, top_y, z), radius, segments=segments)


def _corners(half_w, half_d):
    return [(sx * half_w, sz * half_d) for sx in (-1, 1) for sz in (-1, 1)]


def table(mb, rng):
    u = rng.uniform
    h, t = u(0.5, 0.95), u(0.02, 0.07)
    if rng.random() < 0.3:  # round top
        radius = u(0.35, 0.75)
        mb.cylinder(radius, t, at=(0, h - t / 2, 0), segments=28)
        if rng.random() < 0.5:  # pedestal and foot
            pole = u(0.03, 0.1)
            mb.tube((0, 0, 0), (0, h - t, 0), pole, segments=12)
            mb.cylinder(u(0.3, 0.7) * radius, u(0.02, 0.06), r_top=pole * 1.5, at=(0, 0.02, 0))
            return
        n = int(rng.choice([3, 4]))
        a = u(0, 2 * np.pi) + np.arange(n) * 2 * np.pi / n
        feet = np.stack([np.cos(a), np.sin(a)], 1) * radius * u(0.55, 0.8)
        _legs(mb, rng, feet, 0, h - t, u(0.015, 0.04), splay=u(0, 0.15))
        return
    w, d, inset, leg = u(0.8, 2.0), u(0.45, 1.1), u(0.02, 0.12), u(0.015, 0.05)
    mb.box((w, t, d), at=(0, h - t / 2, 0))
    hw, hd = w / 2 - inset, d / 2 - inset
    if rng.random() < 0.2:  # desk: a drawer cabinet replaces the legs on one side
        cw = u(0.25, 0.45) * w
        mb.box((cw, h - t, d - 2 * inset), at=(hw - cw / 2 + leg, (h - t) / 2, 0))
        _legs(mb, rng, [(-hw, -hd), (-hw, hd)], 0, h - t, leg)
    else:
        _legs(mb, rng, _corners(hw, hd), 0, h - t, leg, splay=u(0, 0.1) if rng.random() < 0.3 else 0.0)
    r = rng.random()
    if r < 0.2:  # lower shelf
        mb.box((2 * hw, t * 0.7, 2 * hd), at=(0, u(0.1, 0.3) * h, 0))
    elif r < 0.45:  # apron under the top
        a = u(0.05, 0.15)
        y = h - t - a / 2
        mb.boxes([(2 * hw, a, leg), (2 * hw, a, leg), (leg, a, 2 * hd), (leg, a, 2 * hd)],
                 [(0, y, -hd), (0, y, hd), (-hw, y, 0), (hw, y, 0)])


def chair(mb, rng):
    u = rng.uniform
    w, d, st, sh = u(0.4, 0.6), u(0.4, 0.6), u(0.03, 0.1), u(0.38, 0.5)
    mb.box((w, st, d), at=(0, sh, 0))
    top = sh + st / 2
    bh, tilt, bt = u(0.3, 0.75), u(0, 0.3), u(0.02, 0.07)
    rot = rot_x(-tilt)
    base = np.array([0, top, -d / 2 + bt / 2])
    if rng.random() < 0.6:  # solid back
        mb.box((w * u(0.8, 1.0), bh, bt), at=base + rot @ [0, bh / 2, 0], rot=rot)
    else:  # two posts with rails or slats
        p = u(0.012, 0.03)
        for sx in (-1, 1):
            mb.box((2 * p, bh, 2 * p), at=base + rot @ [sx * (w / 2 - p), bh / 2, 0], rot=rot)
        k = int(rng.integers(2, 6))
        if rng.random() < 0.5:
            rail = u(0.03, 0.08)
            for y in np.linspace(0.35, 0.95, k) * bh:
                mb.box((w - 2 * p, rail, p), at=base + rot @ [0, y, 0], rot=rot)
        else:
            slat = (w - 4 * p) / (2 * k)
            for x in (np.arange(k) - (k - 1) / 2) * (w - 4 * p) / k:
                mb.box((slat, bh * 0.85, p), at=base + rot @ [x, bh * 0.45, 0], rot=rot)
    if rng.random() < 0.2:  # office chair: column, star base, casters
        mb.tube((0, 0.08, 0), (0, sh - st / 2, 0), u(0.025, 0.04), segments=12)
        reach = u(0.25, 0.35)
        for a in u(0, 2 * np.pi) + np.arange(5) * 2 * np.pi / 5:
            foot = np.array([reach * np.cos(a), 0.05, reach * np.sin(a)])
            mb.tube((0, 0.08, 0), foot, 0.02, segments=6)
            mb.ellipsoid((0.03, 0.03, 0.03), at=foot - [0, 0.02, 0], rings=4, segments=8)
    else:
        leg = u(0.012, 0.035)
        _legs(mb, rng, _corners(w / 2 - 1.5 * leg, d / 2 - 1.5 * leg), 0, sh - st / 2, leg, splay=u(0, 0.08))
    if rng.random() < 0.3:  # armrests with front supports
        ah, at = u(0.18, 0.3), u(0.03, 0.08)
        for sx in (-1, 1):
            mb.box((at, 0.03, d * u(0.7, 1.0)), at=(sx * w / 2, top + ah, 0))
            mb.box((at * 0.6, ah, at * 0.6), at=(sx * w / 2, top + ah / 2, d * 0.35))


def stool(mb, rng):
    u = rng.uniform
    radius, t, h = u(0.14, 0.25), u(0.03, 0.08), u(0.45, 0.8)
    if rng.random() < 0.2:
        mb.box((2 * radius, t, 2 * radius), at=(0, h - t / 2, 0))
    else:
        mb.cylinder(radius, t, at=(0, h - t / 2, 0), segments=24)
    n = int(rng.choice([3, 4]))
    a = u(0, 2 * np.pi) + np.arange(n) * 2 * np.pi / n
    ring_top, ring_foot, leg = radius * u(0.55, 0.8), radius * u(0.8, 1.4), u(0.012, 0.025)
    for c, s in zip(np.cos(a), np.sin(a)):
        mb.tube((ring_foot * c, 0, ring_foot * s), (ring_top * c, h - t, ring_top * s), leg, segments=8)
    if rng.random() < 0.6:  # foot ring
        y = h * u(0.25, 0.45)
        mb.torus(ring_foot + (ring_top - ring_foot) * y / (h - t), leg * 0.8, at=(0, y, 0), segments=24, sides=6)


def shelf(mb, rng):
    u = rng.uniform
    w, h, d, t = u(0.5, 1.4), u(0.6, 2.0), u(0.22, 0.45), u(0.015, 0.04)
    plinth = u(0.02, 0.08) if rng.random() < 0.5 else 0.0
    sizes = [(t, h, d), (t, h, d), (w - 2 * t, t, d), (w - 2 * t, t, d)]
    centres = [(-(w - t) / 2, h / 2, 0), ((w - t) / 2, h / 2, 0), (0, h - t / 2, 0), (0, plinth + t / 2, 0)]
    levels = np.linspace(plinth + t, h - t, int(rng.integers(1, 6)) + 2)
    for y in levels[1:-1]:
        sizes.append((w - 2 * t, t, d))
        centres.append((0, y, 0))
    if rng.random() < 0.7:  # back panel
        sizes.append((w, h, t / 2))
        centres.append((0, h / 2, -(d - t / 2) / 2))
    if rng.random() < 0.5:  # books, packed from the left of some shelves
        gap = levels[1] - levels[0] - t
        for y in levels[:-1]:
            if rng.random() < 0.6:
                widths = u(0.02, 0.06, int(rng.integers(3, 12)))
                x = -(w / 2 - t) + np.cumsum(widths) - widths / 2
                keep = x + widths / 2 < w / 2 - t
                heights, depths = gap * u(0.5, 0.9, len(widths)), d * u(0.6, 0.9, len(widths))
                for bw, bh, bd, bx in zip(widths[keep], heights[keep], depths[keep], x[keep]):
                    sizes.append((bw, bh, bd))
                    centres.append((bx, y + t / 2 + bh / 2, 0))
    mb.boxes(sizes, centres)


def bed(mb, rng):
    u = rng.uniform
    length, w, frame_top = u(1.7, 2.2), u(0.8, 1.9), u(0.15, 0.35)
    legs = u(0.05, 0.15) if rng.random() < 0.5 else 0.0
    mt, hh, ht = u(0.12, 0.3), u(0.3, 0.9), u(0.03, 0.1)
    top = frame_top + mt
    sizes = [(w, frame_top - legs, length), (w * 0.96, mt, length * 0.97), (w * u(1.0, 1.06), top + hh, ht)]
    centres = [(0, (legs + frame_top) / 2, 0), (0, frame_top + mt / 2, 0), (0, (top + hh) / 2, -length / 2 - ht / 2)]
    if rng.random() < 0.5:  # footboard
        fh = top + hh * u(0.0, 0.6)
        sizes.append((w, fh, ht))
        centres.append((0, fh / 2, length / 2 + ht / 2))
    mb.boxes(sizes, centres)
    if legs:
        _legs(mb, rng, _corners(w / 2 - 0.04, length / 2 - 0.04), 0, legs, 0.03)
    n = 2 if w > 1.2 else 1
    for x in (np.arange(n) - (n - 1) / 2) * w / n:
        mb.ellipsoid((w / n * 0.4, u(0.04, 0.08), u(0.12, 0.2)), at=(x, top + 0.04, -length / 2 + 0.3), rings=6,
                     segments=12)


def sofa(mb, rng):
    u = rng.uniform
    w, d, seat = u(1.2, 2.6), u(0.7, 1.0), u(0.35, 0.5)
    cushion, legs = u(0.08, 0.18), (u(0.04, 0.15) if rng.random() < 0.6 else 0.0)
    base_top = seat - cushion
    arm_w, arm_h = u(0.08, 0.25), seat + u(0.1, 0.3)
    back_h, back_t, tilt = u(0.3, 0.6), u(0.12, 0.25), u(0.05, 0.3)
    inner = w - 2 * arm_w
    n = int(rng.integers(1, 4))
    sizes = [(w, base_top - legs, d)]
    centres = [(0, (legs + base_top) / 2, 0)]
    for x in (np.arange(n) - (n - 1) / 2) * inner / n:
        sizes.append((inner / n * 0.98, cushion, d - back_t))
        centres.append((x, base_top + cushion / 2, back_t / 2))
    rounded = rng.random() < 0.4
    for sx in (-1, 1):
        x = sx * (w - arm_w) / 2
        sizes.append((arm_w, arm_h - legs - (arm_w / 2 if rounded else 0), d))
        centres.append((x, (legs + arm_h - (arm_w / 2 if rounded else 0)) / 2, 0))
        if rounded:
            mb.capsule((x, arm_h - arm_w / 2, -d / 2 + arm_w / 2), (x, arm_h - arm_w / 2, d / 2 - arm_w / 2),
                       arm_w / 2, segments=12)
    mb.boxes(sizes, centres)
    rot = rot_x(-tilt)
    mb.box((inner, back_h + cushion, back_t), at=np.array([0, base_top, -d / 2 + back_t / 2]) + rot @ [0, (
        back_h + cushion) / 2, 0], rot=rot)
    if legs:
        _legs(mb, rng, _corners(w / 2 - 0.05, d / 2 - 0.05), 0, legs, u(0.015, 0.03))


def bench(mb, rng):
    u = rng.uniform
    w, d, h, t = u(1.0, 2.0), u(0.3, 0.5), u(0.4, 0.5), u(0.03, 0.08)
    if rng.random() < 0.4:  # slatted seat
        k = int(rng.integers(3, 6))
        z = (np.arange(k) - (k - 1) / 2) * d / k
        mb.boxes(np.tile([w, t, d / k * 0.8], (k, 1)), np.stack([np.zeros(k), np.full(k, h - t / 2), z], 1))
    else:
        mb.box((w, t, d), at=(0, h - t / 2, 0))
    inset = u(0.05, 0.2)
    if rng.random() < 0.5:  # end panels
        pt = u(0.03, 0.08)
        mb.boxes([(pt, h - t, d * 0.9)] * 2, [(sx * (w / 2 - inset), (h - t) / 2, 0) for sx in (-1, 1)])
    else:
        _legs(mb, rng, _corners(w / 2 - inset, d / 2 - 0.04), 0, h - t, u(0.02, 0.04), splay=u(0, 0.1))
    if rng.random() < 0.5:  # backrest on two posts
        bh, tilt = u(0.3, 0.5), u(0.05, 0.3)
        rot = rot_x(-tilt)
        base = np.array([0, h, -d / 2 + 0.02])
        for sx in (-1, 1):
            mb.box((0.04, bh, 0.04), at=base + rot @ [sx * (w / 2 - inset), bh / 2, 0], rot=rot)
        mb.box((w, bh * u(0.4, 0.7), 0.03), at=base + rot @ [0, bh * 0.65, 0.02], rot=rot)


def cabinet(mb, rng):
    """Dresser / night stand / wardrobe: a box body with drawer or door fronts and handles."""
    u = rng.uniform
    w, h, d = u(0.4, 1.6), u(0.4, 2.0), u(0.35, 0.6)
    feet = u(0.03, 0.15)
    mb.box((w, h, d), at=(0, feet + h / 2, 0))
    if rng.random() < 0.5:
        _legs(mb, rng, _corners(w / 2 - 0.04, d / 2 - 0.04), 0, feet, u(0.015, 0.03))
    else:
        mb.box((w * 0.95, feet, d * 0.95), at=(0, feet / 2, 0))
    if rng.random() < 0.5:  # top overhang
        mb.box((w * 1.04, 0.03, d * 1.04), at=(0, feet + h + 0.015, 0))
    rows, cols = int(rng.integers(1, 6)), int(rng.choice([1, 2, 2, 3]))
    fw, fh = w / cols, h / rows
    x = (np.arange(cols) - (cols - 1) / 2) * fw
    y = feet + (np.arange(rows) + 0.5) * fh
    xx, yy = np.meshgrid(x, y)
    n = xx.size
    fronts = np.stack([xx.ravel(), yy.ravel(), np.full(n, d / 2 + 0.008)], 1)
    handles = fronts + [0, fh * 0.25 if rows == 1 else 0, 0.02]
    mb.boxes(np.tile([fw * 0.92, fh * 0.88, 0.016], (n, 1)), fronts)
    mb.boxes(np.tile([min(0.12, fw * 0.3), 0.02, 0.02], (n, 1)), handles)
