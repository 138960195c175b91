"""derive_findings(series_modality=...): pars findings say what they were read on; a marker on a
radiograph never yields a CT stage."""

import pytest

from app.annotations import model as am
from app.findings.derive import derive_findings
from app.findings.model import (
    CTStage,
    CTStageBasis,
    ImagingModality,
    Level,
    ParsFinding,
    Side,
    StudyFindings,
    imaging_modality_from_dicom,
)

DX, CT, MR = "1.2.10", "1.2.20", "1.2.30"
MODALITY = {DX: "DX", CT: "CT", MR: "MR"}


def marker(series, status="complete_fracture", level="L5", side="left", **kw):
    return am.ParsMarker(points_px=((5, 5),), level=level, side=side, status=status,
                         series_instance_uid=series, sop_instance_uid=series + ".1", **kw)


def test_marker_on_an_oblique_radiograph_is_a_suspicion_without_ct_stage():
    out = derive_findings([marker(DX)], StudyFindings(), series_modality=MODALITY)
    p = out.pars_at(Level.L5, Side.LEFT)
    assert p.read_on == {ImagingModality.RADIOGRAPH}
    assert p.cross_sectional_confirmation is False
    assert p.ct_stage is None and p.ct_stage_basis is None


def test_marker_on_ct_confirms_and_stages_from_ct():
    out = derive_findings([marker(DX, created="2026-01-01T00:00:00+00:00"),
                           marker(CT, created="2026-01-02T00:00:00+00:00")], StudyFindings(), series_modality=MODALITY)
    p = out.pars_at(Level.L5, Side.LEFT)
    assert p.read_on == {ImagingModality.RADIOGRAPH, ImagingModality.CT}
    assert p.cross_sectional_confirmation is True
    assert (p.ct_stage, p.ct_stage_basis) == (CTStage.PROGRESSIVE, CTStageBasis.CT)


def test_marker_on_mri_stages_by_the_labelled_crosswalk():
    out = derive_findings([marker(MR, status="stress_reaction")], StudyFindings(), series_modality=MODALITY)
    p = out.pars_at(Level.L5, Side.LEFT)
    assert p.read_on == {ImagingModality.MR}
    assert (p.ct_stage, p.ct_stage_basis) == (CTStage.PRE_LYSIS, CTStageBasis.MRI_CROSSWALK)


def test_edema_roi_on_mri_adds_mr_to_a_radiograph_finding():
    roi = am.EllipseROI(points_px=((0, 0), (10, 10)), role="edema", level="L5", side="left",
                        series_instance_uid=MR, sop_instance_uid=MR + ".1", stats=(300.0, 1.0, 50, 10.0))
    ref = am.EllipseROI(points_px=((20, 20), (30, 30)), role="reference", series_instance_uid=MR,
                        sop_instance_uid=MR + ".1", stats=(100.0, 1.0, 50, 10.0))
    out = derive_findings([marker(DX), roi, ref], StudyFindings(), series_modality=MODALITY)
    assert out.pars_at(Level.L5, Side.LEFT).read_on == {ImagingModality.RADIOGRAPH, ImagingModality.MR}


def test_deleting_the_ct_marker_drops_ct_from_read_on():
    dx, ct = marker(DX), marker(CT, created="2026-01-02T00:00:00+00:00")
    both = derive_findings([dx, ct], StudyFindings(), series_modality=MODALITY)
    only_dx = derive_findings([dx], both, series_modality=MODALITY)
    assert only_dx.pars_at(Level.L5, Side.LEFT).read_on == {ImagingModality.RADIOGRAPH}


def test_without_a_map_or_for_unknown_series_read_on_is_left_alone():
    assert derive_findings([marker(DX)], StudyFindings()).pars_at(Level.L5, Side.LEFT).read_on == frozenset()
    base = StudyFindings().with_pars(ParsFinding("L5", "left", "complete_fracture",
                                                 read_on=frozenset({ImagingModality.CT})))
    out = derive_findings([marker("9.9.9")], base, series_modality=MODALITY)
    assert out.pars_at(Level.L5, Side.LEFT).read_on == {ImagingModality.CT}
    hand = ParsFinding("L4", "right", "intact", read_on=frozenset({ImagingModality.MR}))
    assert derive_findings([], StudyFindings(pars=(hand,)), series_modality=MODALITY).pars == (hand,)


@pytest.mark.parametrize("value, kind", [
    ("CR", ImagingModality.RADIOGRAPH), ("DX", ImagingModality.RADIOGRAPH), ("RF", ImagingModality.RADIOGRAPH),
    ("XA", ImagingModality.RADIOGRAPH), ("CT", ImagingModality.CT), ("MR", ImagingModality.MR),
    ("NM", ImagingModality.NM), ("PT", ImagingModality.NM), (" dx ", ImagingModality.RADIOGRAPH),
    ("SR", None), ("OT", None), ("", None), (None, None),
])
def test_dicom_modality_mapping(value, kind):
    assert imaging_modality_from_dicom(value) is kind
