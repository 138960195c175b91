import numpy as np
import pytest

from app.dicom.model import (
    Geometry,
    InstanceHeader,
    Modality,
    MRSequence,
    Plane,
    RadiographView,
    SeriesEntry,
)
from app.viewer.hanging import estimate_pars_x, pars_protocol, simple_layout


def _entry(key, modality, kind, desc, n=1, **kw):
    inst = [InstanceHeader(path=f"/x/{key}/{i}.dcm", sop_instance_uid=f"{key}.{i}", sop_class_uid="", transfer_syntax_uid="")
            for i in range(n)]
    return SeriesEntry(key=key, series_instance_uid=key, modality=modality, modality_code=modality.value,
                       description=desc, series_number=None, kind=kind, instances=inst, **kw)


def full_study():
    return [
        _entry("ap", Modality.DX, "radiograph", "L-SPINE AP", view=RadiographView.AP),
        _entry("lat", Modality.DX, "radiograph", "L-SPINE LAT", view=RadiographView.LATERAL),
        _entry("lo", Modality.DX, "radiograph", "L-SPINE LT OBL", view=RadiographView.LEFT_OBLIQUE),
        _entry("ro", Modality.DX, "radiograph", "L-SPINE RT OBL", view=RadiographView.RIGHT_OBLIQUE),
        _entry("ct_soft", Modality.CT, "volume", "AX SOFT 3.0", n=40, plane=Plane.AXIAL),
        _entry("ct", Modality.CT, "volume", "AX BONE 1.0", n=120, plane=Plane.AXIAL),
        _entry("t1", Modality.MR, "volume", "SAG T1", n=15, plane=Plane.SAGITTAL, sequence=MRSequence.T1),
        _entry("t2", Modality.MR, "volume", "SAG T2", n=15, plane=Plane.SAGITTAL, sequence=MRSequence.T2),
        _entry("stir", Modality.MR, "volume", "SAG STIR", n=15, plane=Plane.SAGITTAL, sequence=MRSequence.STIR),
    ]


def test_pars_protocol_fills_each_cell_with_the_right_series():
    lay = pars_protocol(full_study())
    assert (lay.rows, lay.cols) == (2, 3)
    assert lay.cell("xr_left_oblique").series_key == "lo"
    assert lay.cell("xr_right_oblique").series_key == "ro"
    assert lay.cell("ct_sag_left_pars").series_key == "ct"  # thin bone kernel preferred
    assert lay.cell("ct_sag_left_pars").pars_side == "left"
    assert lay.cell("ct_sag_right_pars").orientation == "sagittal"
    assert lay.cell("mr_sag_stir").series_key == "stir"
    assert lay.cell("ct_axial").orientation == "axial"


def test_missing_series_are_named_in_empty_cells():
    study = [s for s in full_study() if s.key not in ("ro", "stir", "t2")]
    lay = pars_protocol(study)
    assert lay.cell("xr_right_oblique").series_key is None
    assert lay.cell("xr_right_oblique").empty_message == "No right oblique radiograph in this study"
    assert lay.cell("mr_sag_stir").series_key is None
    assert "No sagittal STIR or T2" in lay.cell("mr_sag_stir").empty_message
    only_xr = [s for s in full_study() if s.modality == Modality.DX]
    assert "No CT" in pars_protocol(only_xr).cell("ct_sag_left_pars").empty_message


def test_t2_is_used_when_there_is_no_stir():
    study = [s for s in full_study() if s.key != "stir"]
    cell = pars_protocol(study).cell("mr_sag_stir")
    assert cell.series_key == "t2" and "T2" in cell.note


def test_oblique_found_from_description_when_view_unknown():
    study = [_entry("x", Modality.CR, "radiograph", "LUMBAR RT OBL", view=RadiographView.UNKNOWN)]
    assert pars_protocol(study).cell("xr_right_oblique").series_key == "x"
    assert pars_protocol(study).cell("xr_left_oblique").series_key is None


def test_simple_layouts():
    lay = simple_layout(full_study(), 2, 2)
    assert len(lay.cells) == 4 and lay.cells[0].series_key == "ap"
    assert simple_layout([], 1, 1).cells[0].series_key is None


def test_pars_estimate_finds_the_midline_of_a_symmetric_phantom():
    # bone columns at x = mid +/- 14 mm and a vertebral body at mid; mid = 23 mm in LPS
    g = Geometry(np.array([-40.0, -40.0, 0.0]), np.array([0.5, 0.5, 1.0]), np.eye(3), (200, 160, 40))
    a = np.full((40, 160, 200), -1000, dtype=np.int16)
    mid_i = int((23.0 + 40.0) / 0.5)  # 126
    a[:, 40:80, mid_i - 30: mid_i + 31] = 700  # body
    for s in (-28, 28):
        a[:, 100:120, mid_i + s - 3: mid_i + s + 4] = 900  # posterior elements
    est = estimate_pars_x(a, g)
    assert est.midline_x_lps == pytest.approx(23.0, abs=1.0)
    assert est.left_x_lps - est.midline_x_lps == pytest.approx(14.0)
    assert est.right_x_lps < est.midline_x_lps < est.left_x_lps  # +x is the patient's left
    empty = estimate_pars_x(np.full((5, 5, 5), -1000, np.int16), Geometry(np.zeros(3), np.ones(3), np.eye(3), (5, 5, 5)))
    assert "centre" in empty.method
