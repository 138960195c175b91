"""Authoring: an anonymised copy (dicognito, PS3.15 basic profile) where no patient name, ID,
birth date or institution survives in any exported file, and UIDs are remapped consistently so
the copy still scans as one study."""

from __future__ import annotations

import pytest

from app.dicom.scan import scan_paths
from app.findings import model as fm
from app.findings.io import load_findings
from app.teaching.authoring import AuthoringError, make_case
from app.teaching.case import CaseMetadata
from app.teaching.library import load_library
from tests.unit.dicom.conftest import SeriesWriter

STUDY_UID = "1.2.826.0.1.3680043.8.498.77"
SECRETS = {"name": "Smithson^Geraldine", "id": "MRN-9931-77", "birth": "19790423",
           "institution": "Royal Example Infirmary"}


def _study(root):
    w = SeriesWriter(root)
    attrs = dict(PatientName=SECRETS["name"], PatientID=SECRETS["id"], PatientBirthDate=SECRETS["birth"],
                 InstitutionName=SECRETS["institution"], StudyInstanceUID=STUDY_UID)
    ct, _, _ = w.stack(4, folder="Smithson_CT", series_uid="1.2.826.0.1.3680043.8.498.78", **attrs)
    mr, _, _ = w.stack(3, modality="MR", folder="Smithson_MR", series_uid="1.2.826.0.1.3680043.8.498.79", **attrs)
    (root / "notes.txt").write_text(f"patient {SECRETS['name']}", encoding="utf-8")
    return ct, mr


def _read(sop_uid: str) -> fm.StudyFindings:
    ref = fm.AnnotationRef(annotation_id="a1", kind="pars-marker", series_instance_uid="1.2.826.0.1.3680043.8.498.78",
                           sop_instance_uid=sop_uid, points_px=((1.0, 2.0),))
    return fm.StudyFindings(
        study_instance_uid=STUDY_UID, impression="Left L5 defect in Geraldine Smithson (MRN-9931-77).",
        pars=(fm.ParsFinding(fm.Level.L5, fm.Side.LEFT, fm.ParsStatus.COMPLETE_FRACTURE, gap_mm=2.0, provenance=(ref,)),))


def test_anonymised_case_keeps_no_identifier_and_loads_as_one_study(tmp_path, monkeypatch):
    import pydicom

    monkeypatch.setenv("ISTHMUS_DATA_DIR", str(tmp_path / "data"))
    study = tmp_path / "study"
    ct, _mr = _study(study)
    sop = str(pydicom.dcmread(ct[0]).SOPInstanceUID)
    meta = CaseMetadata("my_case", "My case", "Back pain in a runner.", tags=("L5",))
    report = make_case(study, _read(sop), tmp_path / "out", meta)
    assert report.images_written == 7
    assert [p for p, _ in report.skipped] == [str(study / "notes.txt")]

    exported = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert len(exported) == 7 + 2  # images, reference read, metadata
    needles = [SECRETS["id"], SECRETS["birth"], SECRETS["institution"], "Smithson", "Geraldine"]
    for path in exported:
        blob = path.read_bytes().lower()
        assert "smithson" not in path.name.lower()
        for needle in needles:
            assert needle.lower().encode() not in blob, f"{needle} survives in {path}"

    scan = scan_paths(tmp_path / "out" / "images")
    assert len(scan.patients) == 1 and len(scan.patients[0].studies) == 1
    st = scan.patients[0].studies[0]
    assert st.study_instance_uid != STUDY_UID
    assert len(st.series) == 2
    assert {s.series_instance_uid for s in st.series}.isdisjoint({"1.2.826.0.1.3680043.8.498.78", "1.2.826.0.1.3680043.8.498.79"})

    read = load_findings(tmp_path / "out" / "reference_read.json")
    assert read.study_instance_uid == st.study_instance_uid  # remapped with the same mapping
    prov = read.pars[0].provenance[0]
    ct_series = next(s for s in st.series if s.modality_code == "CT")
    assert prov.series_instance_uid == ct_series.series_instance_uid
    new_sops = {str(pydicom.dcmread(p).SOPInstanceUID) for p in (tmp_path / "out" / "images").iterdir()}
    assert prov.sop_instance_uid in new_sops and sop not in new_sops

    lib = load_library([tmp_path / "out"], bundled_dir=tmp_path / "none")
    assert lib.get("my_case").meta.source == "authored"


def test_authoring_refuses_bad_input_by_name(tmp_path):
    meta = CaseMetadata("c", "C", "h")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(AuthoringError, match="no DICOM image files") as exc:
        make_case(empty, fm.StudyFindings(), tmp_path / "out", meta)
    assert str(empty) in str(exc.value)
    with pytest.raises(AuthoringError, match="study folder not found"):
        make_case(tmp_path / "missing", fm.StudyFindings(), tmp_path / "out", meta)
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    with pytest.raises(AuthoringError, match="not empty"):
        make_case(empty, fm.StudyFindings(), full, meta)
