"""Articulated human figure in a random standing/walking pose (y up, facing +z, ~1.7 tall)."""
import numpy as np


def _unit(v):
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


def person(mb, rng):
    u = rng.uniform
    thigh, shin, torso = u(0.38, 0.48), u(0.36, 0.46), u(0.45, 0.6)
    hip_w, shoulder_w, limb = u(0.08, 0.12), u(0.15, 0.22), u(0.035, 0.06)
    upper_arm, forearm, head = u(0.25, 0.32), u(0.22, 0.3), u(0.09, 0.12)
    joints, ankles = [], []
    for sx in (-1, 1):  # legs: swing at the hip, bend at the knee
        swing, knee = u(-0.5, 0.5), u(0.0, 0.8)
        hip = np.array([sx * hip_w, 0.0, 0.0])
        knee_p = hip + thigh * np.array([0, -np.cos(swing), np.sin(swing)])
        ankle = knee_p + shin * np.array([0, -np.cos(swing - knee), np.sin(swing - knee)])
        joints.append((hip, knee_p, ankle, limb * 1.2, limb))
        ankles.append(ankle)
    lift = -min(a[1] for a in ankles) + 0.05
    neck = np.array([0, torso, 0])
    for sx in (-1, 1):  # arms: raise sideways, swing forwards, bend the elbow
        raise_, swing, elbow = u(0.1, 1.5), u(-0.8, 0.8), u(0.0, 1.5)
        shoulder = np.array([sx * shoulder_w, torso * 0.88, 0])
        d1 = _unit([sx * np.sin(raise_) * np.cos(swing), -np.cos(raise_) * np.cos(swing), np.sin(swing)])
        d2 = _unit(np.cos(elbow) * d1 + np.sin(elbow) * np.array([0, 0, 1]))
        elbow_p = shoulder + upper_arm * d1
        joints.append((shoulder, elbow_p, elbow_p + forearm * d2, limb, limb * 0.8))
    up = np.array([0, lift, 0])
    for a, b, c, r1, r2 in joints:
        mb.capsule(a + up, b + up, r1, segments=10, rings=2)
        mb.capsule(b + up, c + up, r2, segments=10, rings=2)
    for ankle in ankles:  # feet
        mb.box((limb * 1.6, 0.06, u(0.2, 0.27)), at=ankle + up + [0, -0.03, 0.06])
    mb.ellipsoid((shoulder_w * u(0.85, 1.05), torso * 0.55, u(0.09, 0.13)), at=up + [0, torso * 0.5, 0], rings=8,
                 segments=14)
    mb.ellipsoid((hip_w * 1.6, 0.1, 0.1), at=up + [0, 0.02, 0], rings=6, segments=12)
    mb.capsule(up + neck, up + neck + [0, 0.08, 0], 0.045, segments=8, rings=2)
    mb.ellipsoid((head * 0.85, head, head * 0.95), at=up + neck + [0, 0.08 + head, 0.01], rings=8, segments=12)
