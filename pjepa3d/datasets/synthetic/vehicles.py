"""Vehicles: airplane (nose towards +z) and car (front towards +z), y up."""
import numpy as np

from .mesh import rot_x, rot_z, slab


def _wing(root_x, span, chord, taper, sweep, dihedral, thickness):
    """Corners (2, 2, 2, 3) of a tapered swept wing from x=root_x to root_x+span, leading edge at z=0."""
    c = np.empty((2, 2, 2, 3))
    for xb, (x, ch, dy, dz) in enumerate(((root_x, chord, 0, 0), (root_x + span, chord * taper, dihedral * span,
                                                                    -sweep * span))):
        th = thickness * (1 if xb == 0 else taper)
        for yb in (0, 1):
            for zb in (0, 1):
                c[zb, yb, xb] = (x, dy + (yb - 0.5) * th, dz - (1 - zb) * ch)
    return c


def _pair(mb, corners, at, rot=None):
    """A wing and its mirror image about x=0."""
    mb.hexahedron(corners, at=at, rot=rot)
    mb.hexahedron(corners, at=at, rot=rot, scale=(-1, 1, 1))


def airplane(mb, rng):
    u = rng.uniform
    rf = u(0.06, 0.13)
    axial = np.array([-1, -0.97, -0.6, 0.55, 0.75, 0.88, 0.96, 1.0])
    radius = rf * np.array([0, u(0.1, 0.35), 1, 1, 0.92, 0.7, 0.4, 0])
    mb.lathe(radius, axial, 16, rot=rot_x(np.pi / 2))  # fuselage along z
    span, chord, taper, sweep = u(0.7, 1.3), u(0.25, 0.5), u(0.25, 0.8), u(0.0, 0.6)
    wing_y, wing_z = u(-0.6, 0.5) * rf, u(-0.15, 0.3)
    _pair(mb, _wing(rf * 0.5, span, chord, taper, sweep, u(-0.05, 0.15), u(0.015, 0.04)), at=(0, wing_y, wing_z))
    fin_h, fin_c, fin_sweep = u(0.2, 0.4), u(0.15, 0.3), u(0.3, 0.9)
    fin = _wing(0, fin_h, fin_c, u(0.4, 0.8), fin_sweep, 0, u(0.01, 0.025))
    mb.hexahedron(fin, at=(0, rf * 0.5, -0.95 + fin_c + 0.7 * fin_sweep * fin_h), rot=rot_z(np.pi / 2))
    tail_y = rf * 0.5 + fin_h * 0.95 if rng.random() < 0.2 else u(-0.3, 0.5) * rf  # T-tail or low tail
    tail_c = u(0.12, 0.22)
    _pair(mb, _wing(rf * 0.3, u(0.2, 0.45), tail_c, u(0.4, 0.8), u(0.1, 0.6), u(0, 0.1), 0.012),
          at=(0, tail_y, -1 + tail_c + 0.03))
    if rng.random() < 0.6:  # engines under the wings
        er, el = u(0.035, 0.07), u(0.18, 0.35)
        for frac in ([0.35] if rng.random() < 0.6 else [0.3, 0.6]):
            x = rf * 0.5 + frac * span
            z = wing_z - sweep * frac * span + el * 0.4
            for sx in (-1, 1):
                mb.cylinder(er, el, r_top=er * 0.8, at=(sx * x, wing_y - er * 1.3, z), rot=rot_x(np.pi / 2),
                            segments=12)


def car(mb, rng):
    u = rng.uniform
    half_w, clear, body_h, wheel_r = u(0.38, 0.5), u(0.08, 0.16), u(0.25, 0.4), u(0.14, 0.22)
    y0, y1 = clear, clear + body_h
    mb.hexahedron(slab(half_w, (y0, y1), (-1, 1), (-1 + u(0, 0.15), 1 - u(0.05, 0.25)), u(0.9, 1.0)))
    if rng.random() < 0.25:  # van / SUV: long tall cabin
        length, back = u(1.2, 1.6), -0.98
        cabin = slab(half_w * 0.95, (y1, y1 + u(0.3, 0.45)), (back, back + length),
                     (back + 0.02, back + length - u(0.1, 0.3)), u(0.85, 0.95))
    else:
        length, centre = u(0.6, 1.1), u(-0.35, 0.1)
        z0, z1 = centre - length / 2, centre + length / 2
        cabin = slab(half_w * 0.92, (y1, y1 + u(0.2, 0.35)), (z0, z1), (z0 + u(0.05, 0.3), z1 - u(0.15, 0.4)),
                     u(0.75, 0.9))
    mb.hexahedron(cabin)
    width, axle = u(0.12, 0.2), 1 - u(0.25, 0.38)
    for sx in (-1, 1):
        for sz in (-1, 1):
            mb.cylinder(wheel_r, width, at=(sx * (half_w - width * 0.35), wheel_r, sz * axle), rot=rot_z(np.pi / 2),
                        segments=16)
