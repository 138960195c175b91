"""The vertebrae's shapes: cupped endplates, a thin anterior cortex, tapering transverse processes
and curved facet joints (case 1, an adolescent without lesions; small grids, no rendering)."""

import math

import numpy as np
import pytest

from app.findings.model import Level
from app.samples import labels as T
from app.samples.cases import case_by_number
from app.samples.phantom import Grid, facet_plane, label_volume, model_for, part_volume

BODY, ENDPLATE, SAP, IAP, TP = 1, 2, 7, 8, 9


@pytest.fixture(scope="module")
def case1():
    return case_by_number(1)


def _sagittal(case, lv: Level, step: float):
    """Parts on the mid-line sagittal slice round ``lv``'s body, and the points in its frame (y', z')."""
    pose = model_for(case).geometry.poses[lv]
    o = pose.origin
    zs = tuple(float(z) for z in np.arange(o[2] + 25.0, o[2] - 25.0, -step))
    grid = Grid((0.0, o[1] - 25.0), (1.0, 0.0), (0.0, step), 1, int(50 / step), zs)
    parts = part_volume(case, grid)[:, 0, :]
    y = grid.origin_xy[1] + np.arange(grid.n1) * step
    Y, Z = np.meshgrid(y, np.asarray(zs), indexing="xy")
    local = np.stack([np.zeros_like(Y), Y - o[1], Z - o[2]], axis=-1) @ pose.axes
    return parts, local[..., 1], local[..., 2]


@pytest.mark.parametrize("lv", [Level.L2, Level.L4])
def test_the_endplates_are_cupped_lower_at_the_centre_than_near_the_rim(case1, lv):
    pose = model_for(case1).geometry.poses[lv]
    hy, hz = pose.half[1], pose.half[2]
    parts, yp, zp = _sagittal(case1, lv, 0.2)
    bone = np.isin(parts, (BODY, ENDPLATE)) & (np.abs(zp) < hz + 4.0)

    def height(y: float) -> float:
        return float(np.ptp(zp[bone & (np.abs(yp - y) < 0.3)]))

    centre, rim = height(0.0), height(-0.8 * hy)
    # configured 2.2 mm a side at the centre, 0.8 mm at 0.8 of the half-depth (measured 2.8 mm at L2)
    assert rim - centre > 2.0, (rim, centre)


def test_the_anterior_cortex_is_thinner_than_the_posterior_wall(case1):
    pose = model_for(case1).geometry.poses[Level.L3]  # endplates within 3 deg of horizontal
    step = 0.05
    grid = Grid((0.0, float(pose.origin[1]) - 25.0), (1.0, 0.0), (0.0, step), 1, int(50 / step),
                (float(pose.origin[2]),))
    lab = label_volume(case1, grid)[0, 0]
    cort = np.nonzero(lab == T.CORTICAL)[0]
    split = np.nonzero(np.diff(cort) > 1)[0]
    assert split.size == 1  # one run in front, one behind
    front = (split[0] + 1) * step
    back = (cort.size - split[0] - 1) * step
    assert front < 0.8 < 1.0 < back, (front, back)  # configured 0.6 and 1.2 mm


def test_the_transverse_process_tapers_towards_its_tip(case1):
    pose = model_for(case1).geometry.poses[Level.L3]
    z = pose.to_lps((0.0, pose.half[1] + 6.0, 3.0))[2]  # the processes' height behind the body
    step = 0.2
    g = Grid((0.0, float(pose.origin[1])), (step, 0.0), (0.0, step), 300, 250, (float(z),))
    parts = part_volume(case1, g)[0]
    lab = label_volume(case1, g)[0]
    x = np.arange(g.n0) * step
    tp = parts == TP
    cols = np.nonzero(tp.any(axis=1))[0]
    root, tip = x[cols[0]], x[cols[-1]]
    length = tip - root
    assert length > 15.0, length

    def thickness(xm: float) -> float:
        row = np.argmin(np.abs(x - xm))
        return float(tp[row].sum() * step)

    near_root, near_tip = thickness(root + 0.3 * length), thickness(root + 0.8 * length)
    assert near_tip < 0.8 * near_root, (near_root, near_tip)
    # mostly cortical: a thin marrow core (with a wide one each read as a hollow ring on the axial CT)
    assert (lab[tp] == T.CORTICAL).mean() > 0.6


def test_the_facet_joint_is_curved_the_superior_face_concave(case1):
    g = model_for(case1).geometry
    point, n = facet_plane(g, Level.L2, 1.0)  # the left (+x) L2-L3 joint
    nh = np.array([n[0], n[1]]) / math.hypot(n[0], n[1])
    across = np.array([-nh[1], nh[0]])
    step = 0.1
    o = point[:2] - nh * 6.0 - across * 6.0
    grid = Grid((float(o[0]), float(o[1])), (float(nh[0] * step), float(nh[1] * step)),
                (float(across[0] * step), float(across[1] * step)), 120, 120, (float(point[2]),))
    parts = part_volume(case1, grid)[0]  # [along n (IAP towards SAP), across the joint]
    s = np.arange(120) * step - 6.0

    def sap_face(u: float) -> float:  # the SAP's first point along n at ``u`` across the joint
        col = np.argmin(np.abs(s - u))
        return float(s[np.nonzero(parts[:, col] == SAP)[0][0]])

    def iap_face(u: float) -> float:  # the IAP's last point along n
        col = np.argmin(np.abs(s - u))
        return float(s[np.nonzero(parts[:, col] == IAP)[0][-1]])

    mid_sap, mid_iap = sap_face(0.0), iap_face(0.0)
    for u in (-3.5, 3.5):  # configured 0.43 mm of sag at 3.5 mm
        # the superior face's rims reach further towards the inferior process than its middle,
        # and the inferior face curves away with it: a joint space of about the same width
        assert sap_face(u) < mid_sap - 0.25, (u, sap_face(u), mid_sap)
        assert iap_face(u) < mid_iap - 0.25, (u, iap_face(u), mid_iap)
