"""The phantom's geometry and label volume (no Qt, no files)."""

import dataclasses

import numpy as np
import pytest

from app.findings.model import Level, ParsStatus, Side
from app.samples import labels as T
from app.samples.cases import SAMPLE_CASES, CaseSpec, ParsSpec, case_by_number
from app.samples.phantom import (
    PART_NAMES,
    Grid,
    label_volume,
    measured_slip_pct,
    model_for,
    part_volume,
    spine_geometry,
)


def _sagittal_grid(x_mm: float, step: float = 0.5) -> Grid:
    zs = tuple(float(z) for z in np.arange(120.0, -170.0, -step))
    return Grid((x_mm, -120.0), (1.0, 0.0), (0.0, step), 1, int(260 / step), zs)


def test_label_volume_shape_dtype_and_tissues():
    case = case_by_number(1)
    lab = label_volume(case, _sagittal_grid(0.0))
    assert lab.dtype == np.uint8
    assert lab.shape == (580, 1, 520)
    present = set(np.unique(lab).tolist())
    for needed in (T.AIR, T.SKIN, T.FAT, T.MUSCLE, T.CORTICAL, T.ENDPLATE, T.CANCELLOUS, T.ANNULUS,
                   T.NUCLEUS, T.CSF):
        assert needed in present, T.LABEL_NAMES[needed]
    assert max(present) < T.N_LABELS


def test_part_volume_names_the_structures_of_a_parasagittal_slice():
    case = case_by_number(1)
    x = float(model_for(case).pars[(Level.L4, Side.LEFT)].mid_lps[0])
    parts = part_volume(case, _sagittal_grid(x))
    names = {PART_NAMES[p] for p in np.unique(parts).tolist()}
    for needed in ("vertebral body", "pedicle", "pars interarticularis", "superior articular process",
                   "inferior articular process", "intervertebral disc", "sacrum"):
        assert needed in names


@pytest.mark.parametrize("pct", [0.0, 8.0, 18.0, 35.0, 60.0])
def test_configured_slip_is_measured_on_the_geometry(pct):
    base = case_by_number(6)
    case = dataclasses.replace(base, slip_pct=pct)
    g = spine_geometry(case)
    # independent measurement: perpendicular foot of the L5 corner on the S1 endplate line
    lm = g.landmarks()
    ps, as_, pi = lm["S1 postero-superior corner"], lm["S1 antero-superior corner"], lm["L5 postero-inferior corner"]
    e = (as_ - ps) / np.linalg.norm(as_ - ps)
    foot = ps + ((pi - ps) @ e) * e
    assert abs(float((pi - foot) @ e)) < 1e-9  # the foot lies on the endplate line
    slip = float(np.linalg.norm(foot - ps)) * np.sign((pi - ps) @ e) / float(np.linalg.norm(as_ - ps)) * 100
    assert slip == pytest.approx(pct, abs=1.0)
    assert measured_slip_pct(g) == pytest.approx(pct, abs=1.0)


def test_sample_slips_match_their_configuration():
    for case in SAMPLE_CASES:
        assert measured_slip_pct(spine_geometry(case)) == pytest.approx(case.slip_pct, abs=1.0)


def test_isthmic_slip_moves_the_body_but_not_the_arch():
    slipped = case_by_number(6)
    unslipped = dataclasses.replace(slipped, slip_pct=0.0)
    g1, g0 = spine_geometry(slipped), spine_geometry(unslipped)
    move = g1.poses[Level.L5].origin - g0.poses[Level.L5].origin
    assert np.linalg.norm(move) > 10  # ~35 % of a 35 mm endplate
    assert move[1] < 0  # forward (anterior is -y in LPS)
    np.testing.assert_allclose(g1.arch_poses[Level.L5].origin, g0.arch_poses[Level.L5].origin, atol=1e-9)
    # the pars fragments separate by the slip: front end moved, back end stayed
    p1 = model_for(slipped).pars[(Level.L5, Side.LEFT)]
    assert np.linalg.norm(p1.mid_front_lps - p1.mid_lps) == pytest.approx(np.linalg.norm(move), rel=1e-6)


def test_slip_without_bilateral_defects_is_refused():
    with pytest.raises(ValueError, match=r"bilateral|both sides"):
        CaseSpec(number=99, slug="x", title="x", age_years=30, sex="F", slip_pct=10.0)


def _pars_labels(case, level, side):
    info = model_for(case).pars[(level, side)]
    c = info.mid_lps
    step = 0.4
    zs = tuple(float(z) for z in np.arange(c[2] + 8, c[2] - 8, -step))
    grid = Grid((c[0] - 8, c[1] - 8), (0.0, step), (step, 0.0), 40, 40, zs)
    return label_volume(case, grid)


def test_pars_states_are_rasterised():
    normal = case_by_number(1)
    lab = _pars_labels(normal, Level.L5, Side.LEFT)
    assert not np.isin(lab, [T.GAP_FLUID, T.GAP_FIBROUS, T.EDEMA, T.SCLEROTIC]).any()
    stress = _pars_labels(case_by_number(2), Level.L5, Side.LEFT)
    assert (stress == T.EDEMA).sum() > 50 and not np.isin(stress, [T.GAP_FLUID, T.GAP_FIBROUS]).any()
    active = _pars_labels(case_by_number(3), Level.L5, Side.RIGHT)
    assert (active == T.GAP_FLUID).sum() > 20 and (active == T.EDEMA).sum() > 50
    chronic = _pars_labels(case_by_number(4), Level.L5, Side.LEFT)
    assert (chronic == T.GAP_FIBROUS).sum() > 20 and (chronic == T.SCLEROTIC).sum() > 20
    assert not (chronic == T.EDEMA).any()


def test_incomplete_fracture_leaves_part_of_the_pars_bridged():
    case = case_by_number(5)
    inc = _pars_labels(case, Level.L4, Side.LEFT)
    complete = _pars_labels(
        dataclasses.replace(case, pars=((Level.L4, Side.LEFT, ParsSpec(ParsStatus.COMPLETE_FRACTURE, True, True)),)),
        Level.L4,
        Side.LEFT,
    )
    n_inc = int(np.isin(inc, [T.GAP_FLUID, T.GAP_FIBROUS]).sum())
    n_full = int(np.isin(complete, [T.GAP_FLUID, T.GAP_FIBROUS]).sum())
    assert 0 < n_inc < n_full


def test_rasterisation_is_deterministic():
    case = case_by_number(3)
    a = label_volume(case, _sagittal_grid(12.0))
    b = label_volume(case, _sagittal_grid(12.0))
    assert np.array_equal(a, b)
