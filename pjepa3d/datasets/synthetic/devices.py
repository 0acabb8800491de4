"""Devices and instruments: monitor, laptop, keyboard, guitar (y up, front towards +z)."""
import numpy as np

from .mesh import rot_x


def _key_grid(rows, cols, width, depth, y, z_centre, gap=0.2):
    """Sizes and centres (K, 3) of a grid of keys covering width x depth at height y."""
    kw, kd = width / cols, depth / rows
    x = (np.arange(cols) - (cols - 1) / 2) * kw
    z = z_centre + (np.arange(rows) - (rows - 1) / 2) * kd
    xx, zz = np.meshgrid(x, z)
    centres = np.stack([xx.ravel(), np.full(xx.size, y), zz.ravel()], 1)
    sizes = np.tile([kw * (1 - gap), 0.01, kd * (1 - gap)], (xx.size, 1))
    return sizes, centres


def monitor(mb, rng):
    u = rng.uniform
    w = u(0.8, 1.4)
    h, t, lift = w * u(0.5, 0.8), u(0.02, 0.07), u(0.05, 0.35)
    mb.box((w, h, t), at=(0, lift + h / 2, 0))
    if rng.random() < 0.15:  # CRT: a square frustum behind the screen
        k = u(0.4, 0.7)
        mb.lathe([0, np.sqrt(0.5), np.sqrt(0.5) * k, 0], [0, 0, 1, 1], 4, phase=np.pi / 4,
                 scale=(w * 0.9, u(0.4, 0.8) * w, h * 0.9), rot=rot_x(-np.pi / 2), at=(0, lift + h / 2, -t / 2))
    if rng.random() < 0.25:  # TV feet near the ends
        fw = u(0.05, 0.15)
        mb.boxes([(fw, lift + 0.1, 0.2), (fw, lift + 0.1, 0.2)],
                 [(-w * 0.4, (lift + 0.1) / 2, 0), (w * 0.4, (lift + 0.1) / 2, 0)])
        return
    neck_w, neck_t, neck_h = u(0.05, 0.15), u(0.03, 0.06), lift + h * 0.3
    mb.box((neck_w, neck_h, neck_t), at=(0, neck_h / 2, -t / 2 - neck_t / 2))
    if rng.random() < 0.5:
        mb.box((u(0.3, 0.6) * w, 0.03, u(0.2, 0.35)), at=(0, 0.015, -t / 2))
    else:
        mb.cylinder(u(0.12, 0.25) * w, 0.03, at=(0, 0.015, -t / 2), segments=20)


def laptop(mb, rng):
    u = rng.uniform
    w, d, t = u(0.3, 0.4), u(0.2, 0.28), u(0.012, 0.025)
    mb.box((w, t, d), at=(0, t / 2, 0))
    opening = u(np.pi / 2, 2.3)  # angle between base and screen
    hinge = np.array([0, t, -d / 2])
    direction = np.array([0, np.sin(opening), np.cos(opening)])
    sh = d * u(0.85, 1.0)
    mb.box((w, sh, t * 0.6), at=hinge + direction * sh / 2 - [0, 0, t * 0.3], rot=rot_x(np.pi / 2 - opening))
    if rng.random() < 0.5:
        keys = _key_grid(int(rng.integers(4, 7)), int(rng.integers(10, 15)), w * 0.85, d * 0.45, t + 0.004, -d * 0.1)
        mb.boxes(*keys)


def keyboard(mb, rng):
    u = rng.uniform
    w, d, t = u(0.35, 0.5), u(0.12, 0.2), u(0.015, 0.03)
    tilt = u(0, 0.12)
    corners = np.array([[x, y, z] for z in (-d / 2, d / 2) for y in (0, 1) for x in (-w / 2, w / 2)], float)
    corners[:, 1] = np.where(corners[:, 1] > 0, t + tilt * (d / 2 - corners[:, 2]) / d * t * 3, 0)
    mb.hexahedron(corners.reshape(2, 2, 2, 3))
    sizes, centres = _key_grid(int(rng.integers(4, 7)), int(rng.integers(12, 19)), w * 0.92, d * 0.8, 0, 0)
    centres[:, 1] = t + tilt * (d / 2 - centres[:, 2]) / d * t * 3 + 0.005
    mb.boxes(sizes, centres)


def guitar(mb, rng):
    u = rng.uniform
    lower, thick = u(0.17, 0.23), u(0.05, 0.12)
    upper = lower * u(0.7, 0.85)
    flat = rot_x(np.pi / 2)  # disc axis along z
    if rng.random() < 0.3:  # electric: one flat slab body
        mb.cylinder(lower, thick * 0.5, at=(0, 0, 0), rot=flat, segments=20)
        top = lower * 0.9
    else:
        mb.cylinder(lower, thick, at=(0, 0, 0), rot=flat, segments=24)
        mb.cylinder(upper, thick, at=(0, lower + upper * 0.55, 0), rot=flat, segments=24)
        top = lower + upper * 1.5
    neck = u(0.4, 0.55)
    mb.box((0.05, neck, 0.025), at=(0, top + neck / 2 - 0.02, thick * 0.3))
    head = u(0.12, 0.2)
    mb.box((0.08, head, 0.02), at=(0, top + neck + head / 2 - 0.03, thick * 0.25), rot=rot_x(-u(0, 0.25)))
