"""DICOM SR export (TID 1500 via highdicom) and import back into identical findings."""

from __future__ import annotations

import io
import shutil
import subprocess

import pydicom
import pytest
from findings_factories import SOP_UID, STUDY_UID, rich_findings, study_findings
from hypothesis import HealthCheck, given, settings
from synthetic_study import write_ct_study, write_dx_image

from app.findings import model as m, sr_codes as c
from app.findings.sr import (
    SRExportError,
    SRImportError,
    export_sr,
    findings_from_sr,
    findings_to_sr,
    load_findings_from_sr,
    read_study_headers,
)


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("study")
    write_ct_study(d / "ct")
    write_dx_image(d / "dx")
    (d / "notes.txt").write_text("not DICOM")
    return d


@pytest.fixture(scope="module")
def evidence(study_dir):
    return read_study_headers(study_dir, STUDY_UID)


@pytest.fixture(scope="module")
def exported(study_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("sr") / "findings-sr.dcm"
    export_sr(rich_findings(), out, study=study_dir)
    return out


def _reread(sr) -> pydicom.Dataset:
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, sr, enforce_file_format=True)
    buf.seek(0)
    return pydicom.dcmread(buf)


def test_round_trip_rich_findings(exported):
    assert load_findings_from_sr(exported) == rich_findings()


def test_round_trip_non_ascii_text(evidence):
    f = m.StudyFindings(study_instance_uid=STUDY_UID, reader="Dr Zoë Müller-Łukasiewicz", impression="Ödem L5 – links",
                        pars=(m.ParsFinding("L5", "left", "complete_fracture", note="Schräg ✓"),))
    ds = _reread(findings_to_sr(f, evidence))
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert findings_from_sr(ds) == f


def test_round_trip_minimal_findings(evidence):
    for f in (m.StudyFindings(), m.StudyFindings(study_instance_uid=STUDY_UID),
              m.StudyFindings(levels=(m.LevelFinding("S1"),))):
        assert findings_from_sr(_reread(findings_to_sr(f, evidence))) == f
    with pytest.raises(SRExportError, match="belong to study not-a-uid"):
        findings_to_sr(m.StudyFindings(study_instance_uid="not-a-uid"), evidence)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(f=study_findings(study_uid=STUDY_UID))
def test_round_trip_generated_findings(f, evidence):
    assert findings_from_sr(_reread(findings_to_sr(f, evidence))) == f


def test_sr_header_references_the_source_study(exported, evidence):
    ds = pydicom.dcmread(exported)
    assert ds.Modality == "SR" and ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34"  # Comprehensive 3D SR
    assert ds.StudyInstanceUID == STUDY_UID and ds.PatientID == "SYN-0001" and ds.PatientName == "Synthetic^Patient"
    referenced = {item.ReferencedSOPInstanceUID
                  for study in ds.CurrentRequestedProcedureEvidenceSequence
                  for series in study.ReferencedSeriesSequence for item in series.ReferencedSOPSequence}
    assert referenced == {str(e.SOPInstanceUID) for e in evidence} and SOP_UID in referenced
    assert len(referenced) == 4  # 3 CT slices + 1 DX, the text file ignored
    schemes = {s.CodingSchemeDesignator: s for s in ds.CodingSchemeIdentificationSequence}
    assert schemes["99ISTHMUS"].CodingSchemeName == c.PRIVATE_SCHEME_NAME
    assert ds.ConceptNameCodeSequence[0].CodeValue == "126000"


def _walk(items):
    for it in items:
        yield it
        yield from _walk(it.get("ContentSequence", []))


def test_standard_codes_used_for_sites_edema_and_units(exported):
    ds = pydicom.dcmread(exported)
    codes = set()
    for it in _walk(ds.ContentSequence):
        for kw in ("ConceptNameCodeSequence", "ConceptCodeSequence"):
            for code in it.get(kw, []):
                codes.add((code.CodingSchemeDesignator, code.CodeValue))
        for mv in it.get("MeasuredValueSequence", []):
            u = mv.MeasurementUnitsCodeSequence[0]
            codes.add((u.CodingSchemeDesignator, u.CodeValue))
    expected = {("SCT", "49668003"), ("SCT", "11994002"), ("SCT", "54735007"), ("SCT", "24028007"), ("SCT", "7771000"),
                ("SCT", "79654002"), ("SCT", "14016003"), ("SCT", "52101004"), ("SCT", "272519000"),
                ("SCT", "78972004"), ("UCUM", "%"), ("UCUM", "deg"), ("UCUM", "mm"), ("DCM", "126010"),
                ("DCM", "125007"), ("SCT", "363698007")}
    assert expected <= codes
    # the derived grades are visible to any SR reader
    assert ("99ISTHMUS", "MEYERDING-II") in codes and ("99ISTHMUS", "HOLLENBERG-3") in codes


def test_image_reference_for_evidence_instances(exported):
    ds = pydicom.dcmread(exported)
    images = [it for it in _walk(ds.ContentSequence) if it.ValueType == "IMAGE"]
    assert images and all(i.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == SOP_UID for i in images)
    assert all("ReferencedFrameNumber" not in i.ReferencedSOPSequence[0] for i in images)  # CT is single-frame


def test_private_codes_unique_and_within_dicom_limits():
    codes = c.all_private_codes()
    assert len(codes) > 60
    values = [x.value for x in codes]
    assert len(values) == len(set(values))
    assert all(len(x.value) <= 16 and len(x.meaning) <= 64 for x in codes)


def test_private_codes_documented():
    from app.core.paths import resources_dir

    doc = (resources_dir().parent / "docs" / "sr-coding.md").read_text(encoding="utf-8")
    missing = [x.value for x in c.all_private_codes() if f"`{x.value}`" not in doc]
    assert not missing, f"undocumented codes: {missing}"


# ------------------------------------------------------------------ errors

def test_export_refuses_wrong_or_missing_study(tmp_path, study_dir):
    with pytest.raises(SRExportError, match=r"no images of study 1.2.3"):
        export_sr(m.StudyFindings(study_instance_uid="1.2.3"), tmp_path / "x.dcm", study=study_dir)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SRExportError, match="no DICOM images"):
        export_sr(rich_findings(), tmp_path / "x.dcm", study=tmp_path / "empty")
    with pytest.raises(SRExportError, match="source study"):
        export_sr(rich_findings(), tmp_path / "x.dcm")
    assert not (tmp_path / "x.dcm").exists()


def test_export_with_two_studies_needs_the_findings_uid(tmp_path, study_dir):
    d = tmp_path / "two"
    shutil.copytree(study_dir, d / "a")
    write_ct_study(d / "b", study_uid="1.2.826.0.1.3680043.8.498.99", series_uid="1.2.826.0.1.3680043.8.498.98",
                   first_sop_uid="1.2.826.0.1.3680043.8.498.97")
    with pytest.raises(SRExportError, match="2 studies"):
        export_sr(m.StudyFindings(), tmp_path / "x.dcm", study=d)
    export_sr(rich_findings(), tmp_path / "ok.dcm", study=d)
    assert pydicom.dcmread(tmp_path / "ok.dcm").StudyInstanceUID == STUDY_UID


def test_import_refuses_non_isthmus_objects(tmp_path, study_dir):
    ct = next((study_dir / "ct").glob("*.dcm"))
    with pytest.raises(SRImportError, match="not a DICOM Structured Report") as exc:
        load_findings_from_sr(ct)
    assert str(ct) in str(exc.value)
    bad = tmp_path / "junk.dcm"
    bad.write_bytes(b"definitely not dicom")
    with pytest.raises(SRImportError, match="not a readable DICOM file"):
        load_findings_from_sr(bad)
    with pytest.raises(SRImportError, match="file not found"):
        load_findings_from_sr(tmp_path / "missing.dcm")


def test_import_refuses_foreign_report_and_damage(exported, tmp_path):
    ds = pydicom.dcmread(exported)
    groups = ds.ContentSequence[-1].ContentSequence
    # damage: an unknown pars status code
    for g in groups:
        for it in g.ContentSequence:
            if it.get("ConceptNameCodeSequence") and it.ConceptNameCodeSequence[0].CodeValue == "PARS-STATUS":
                it.ConceptCodeSequence[0].CodeValue = "PARS-BROKEN"
    path = tmp_path / "damaged.dcm"
    ds.save_as(path)
    with pytest.raises(SRImportError, match="unknown pars status code PARS-BROKEN") as exc:
        load_findings_from_sr(path)
    assert str(path) in str(exc.value)
    # a TID 1500 report from another program: no Isthmus study group
    ds = pydicom.dcmread(exported)
    ds.ContentSequence[-1].ContentSequence = ds.ContentSequence[-1].ContentSequence[2:]
    with pytest.raises(SRImportError, match="not written by Isthmus"):
        findings_from_sr(ds)


def test_import_refuses_newer_schema(exported):
    ds = pydicom.dcmread(exported)
    for it in _walk(ds.ContentSequence):
        if it.get("ConceptNameCodeSequence") and it.ConceptNameCodeSequence[0].CodeValue == "SCHEMA-VERSION":
            it.MeasuredValueSequence[0].NumericValue = str(m.SCHEMA_VERSION + 1)
    with pytest.raises(SRImportError, match="newer Isthmus"):
        findings_from_sr(ds)


# ------------------------------------------------------------------ external validators

@pytest.mark.external
@pytest.mark.skipif(shutil.which("dsrdump") is None, reason="dcmtk dsrdump not on PATH")
def test_dsrdump_reads_the_sr(exported):
    res = subprocess.run(["dsrdump", str(exported)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "E:" not in res.stderr and "Imaging Measurement Report" in res.stdout
    assert "Pars interarticularis status" in res.stdout


@pytest.mark.external
@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools dciodvfy not on PATH")
def test_dciodvfy_reports_no_errors(exported, evidence, tmp_path):
    paths = [exported]
    # also a non-ASCII report and an empty one
    for i, f in enumerate((m.StudyFindings(reader="Zoë", impression="Ödem"), m.StudyFindings())):
        p = tmp_path / f"extra{i}.dcm"
        pydicom.dcmwrite(p, findings_to_sr(f, evidence), enforce_file_format=True)
        paths.append(p)
    for p in paths:
        res = subprocess.run(["dciodvfy", str(p)], capture_output=True, text=True, timeout=60)
        out = res.stdout + res.stderr
        errors = [line for line in out.splitlines() if line.startswith("Error")]
        assert not errors, f"{p.name}: {errors}"
        assert "Comprehensive3DSR" in out


def test_round_trip_keeps_leading_and_trailing_spaces(evidence):
    # DICOM readers drop trailing spaces of text values; the exporter carries them explicitly
    f = m.StudyFindings(
        reader="  Dr X  ", impression=" a\nb \n", created="   ",
        pars=(m.ParsFinding("L5", "left", "intact", note="n  ", provenance=(m.AnnotationRef(" id ", "k \x00"),)),),
        levels=(m.LevelFinding("L5", slip=m.Slip(1.0, landmarks_lps={" a ": (1, 2)})),),
        context=m.ClinicalContext(sport=" s "),
    )
    assert findings_from_sr(_reread(findings_to_sr(f, evidence))) == f


def _multiframe_evidence(evidence):
    """A header-only multi-frame (Enhanced MR) instance in the same study."""
    from pydicom.dataset import Dataset
    from pydicom.uid import generate_uid

    ds = Dataset()
    for kw in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
               "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName"):
        setattr(ds, kw, evidence[0].get(kw))
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.4.1"  # Enhanced MR Image Storage
    ds.SOPInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "MR"
    ds.NumberOfFrames = 12
    return ds


def test_frame_reference_only_for_multiframe_instances(evidence, tmp_path):
    mf = _multiframe_evidence(evidence)
    ref = m.AnnotationRef("roi-1", "edema-roi", str(mf.SeriesInstanceUID), str(mf.SOPInstanceUID), frame=7,
                          points_px=((1.25, 2.5),))
    f = m.StudyFindings(study_instance_uid=STUDY_UID,
                        pars=(m.ParsFinding("L5", "left", "stress_reaction", provenance=(ref,)),))
    sr = findings_to_sr(f, [*list(evidence), mf])
    ds = _reread(sr)
    images = [it for it in _walk(ds.ContentSequence) if it.ValueType == "IMAGE"]
    assert len(images) == 1 and images[0].ReferencedSOPSequence[0].ReferencedFrameNumber == 7
    assert findings_from_sr(ds) == f
    if shutil.which("dciodvfy"):
        p = tmp_path / "mf.dcm"
        pydicom.dcmwrite(p, sr, enforce_file_format=True)
        res = subprocess.run(["dciodvfy", str(p)], capture_output=True, text=True, timeout=60)
        assert not [line for line in (res.stdout + res.stderr).splitlines() if line.startswith("Error")]


def test_minimal_evidence_header_is_enough_and_not_modified(tmp_path):
    from pydicom.dataset import Dataset
    from pydicom.uid import generate_uid

    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    f = m.StudyFindings(study_instance_uid=str(ds.StudyInstanceUID), reader="R")
    sr = findings_to_sr(f, [ds])
    assert "PatientID" not in ds  # the caller's header is untouched
    assert sr.PatientID in ("", None) and sr.StudyInstanceUID == ds.StudyInstanceUID
    assert findings_from_sr(_reread(sr)) == f
    if shutil.which("dciodvfy"):
        p = tmp_path / "min.dcm"
        pydicom.dcmwrite(p, sr, enforce_file_format=True)
        res = subprocess.run(["dciodvfy", str(p)], capture_output=True, text=True, timeout=60)
        assert not [line for line in (res.stdout + res.stderr).splitlines() if line.startswith("Error")]


# ------------------------------------------------------------------ schema 2 fields

def test_new_fields_use_standard_codes_where_they_exist(exported):
    ds = pydicom.dcmread(exported)
    pairs = set()
    for it in _walk(ds.ContentSequence):
        if it.get("ConceptNameCodeSequence") and it.get("ConceptCodeSequence"):
            name, value = it.ConceptNameCodeSequence[0], it.ConceptCodeSequence[0]
            pairs.add(((name.CodingSchemeDesignator, name.CodeValue), (value.CodingSchemeDesignator, value.CodeValue)))
    modality = ("DCM", "121139")
    assert {(modality, ("DCM", "CT")), (modality, ("DCM", "MR")), (modality, ("SCT", "168537006"))} <= pairs
    assert (("DCM", "121032"), ("DCM", "F")) in pairs  # Subject Sex = Female
    # the radiograph-only right L5 entry is labelled "suspected" for any SR reader
    assert (("99ISTHMUS", "PARS-CONFIRM"), ("SCT", "415684004")) in pairs
    assert (("99ISTHMUS", "PARS-CONFIRM"), ("99ISTHMUS", "CONFIRMED-CT-MR")) in pairs
    numbers = {it.ConceptNameCodeSequence[0].CodeValue: (float(it.MeasuredValueSequence[0].NumericValue),
                                                        it.MeasuredValueSequence[0].MeasurementUnitsCodeSequence[0].CodeValue)
               for it in _walk(ds.ContentSequence) if it.ValueType == "NUM"}
    assert numbers["PELVIC-INCIDENCE"] == (52.5, "deg") and numbers["LUMBAR-LORDOSIS"] == (-48.0, "deg")
    assert numbers["TRANSLATION"] == (4.5, "mm") and numbers["TRANSLATION-PCT"] == (12.25, "%")
    assert numbers["ANGULATION"] == (11.0, "deg")


def test_mri_crosswalk_stage_is_labelled_in_the_sr(evidence):
    f = m.StudyFindings(study_instance_uid=STUDY_UID, pars=(
        m.ParsFinding("L5", "left", "complete_fracture", gap_mm=3.0, read_on=frozenset({"MR"})),))
    ds = _reread(findings_to_sr(f, evidence))
    sources = [it.ConceptCodeSequence[0].CodeValue for it in _walk(ds.ContentSequence)
               if it.get("ConceptNameCodeSequence") and it.ConceptNameCodeSequence[0].CodeValue == "CT-STAGE-SRC"]
    assert sources == ["DERIVED-MRI"]
    assert findings_from_sr(ds) == f


def test_version_1_sr_imports_as_current_version(exported):
    ds = pydicom.dcmread(exported)
    for it in _walk(ds.ContentSequence):
        if it.get("ConceptNameCodeSequence") and it.ConceptNameCodeSequence[0].CodeValue == "SCHEMA-VERSION":
            it.MeasuredValueSequence[0].NumericValue = "1"
    assert findings_from_sr(ds).schema_version == m.SCHEMA_VERSION
