"""Key images in the findings (schema 3): JSON save/reopen, migration, SR export/import."""

from __future__ import annotations

import json
import shutil
import subprocess

import pydicom
import pytest
from report_data import case04_findings, write_study

from app.findings import io as fio, model as m
from app.findings.sr import export_sr, load_findings_from_sr


def _key_images(sop_uid: str, series_uid: str) -> tuple[m.KeyImage, ...]:
    return (
        m.KeyImage(key_image_id="k1", series_instance_uid=series_uid, sop_instance_uid=sop_uid, slice_index=0,
                   plane="sagittal", window_center=-150.5, window_width=1800.0, zoom=1.75,
                   caption="L5 defects & slip <both sides>", annotation_ids=("a-meyerding", "a-pars-left")),
        m.KeyImage(key_image_id="k2", series_instance_uid=series_uid, sop_instance_uid=sop_uid),
    )


def _content_items(ds):
    for it in ds.get("ContentSequence", []):
        yield it
        yield from _content_items(it)


def _with_keys(tmp_path):
    findings = case04_findings()
    dx = write_study(tmp_path / "study", findings.study_instance_uid)
    ds = pydicom.dcmread(dx, stop_before_pixels=True)
    keys = _key_images(str(ds.SOPInstanceUID), str(ds.SeriesInstanceUID))
    for k in keys:
        findings = findings.with_key_image(k)
    return findings, keys


def test_key_images_survive_save_and_reopen(tmp_path):
    findings, keys = _with_keys(tmp_path)
    fio.save_findings(findings, tmp_path / "read.json")
    doc = json.loads((tmp_path / "read.json").read_text())
    assert doc["schema_version"] == 4
    assert [k["key_image_id"] for k in doc["key_images"]] == ["k1", "k2"]
    reopened = fio.load_findings(tmp_path / "read.json")
    assert reopened.key_images == keys
    assert reopened == findings


def test_key_images_survive_sr_export_and_import(tmp_path):
    findings, keys = _with_keys(tmp_path)
    out = export_sr(findings, tmp_path / "sr.dcm", study=tmp_path / "study")
    back = load_findings_from_sr(out)
    assert back.key_images == keys
    assert back == findings
    sr = pydicom.dcmread(out)
    refs = [it for it in _content_items(sr) if it.get("ValueType", "") == "IMAGE"]
    assert keys[0].sop_instance_uid in {str(r.ReferencedSOPSequence[0].ReferencedSOPInstanceUID) for r in refs}
    if shutil.which("dciodvfy"):
        res = subprocess.run(["dciodvfy", str(out)], capture_output=True, text=True, timeout=120)
        assert [ln for ln in (res.stdout + res.stderr).splitlines() if ln.startswith("Error")] == []


def test_version_2_file_loads_without_key_images_and_refuses_them(tmp_path):
    doc = fio.findings_to_dict(case04_findings())
    doc["schema_version"] = 2
    assert fio.findings_from_dict(json.loads(json.dumps(doc))).key_images == ()
    doc["key_images"] = [{"key_image_id": "k", "series_instance_uid": "1.2", "sop_instance_uid": "1.3"}]
    (tmp_path / "odd.json").write_text(json.dumps(doc))
    with pytest.raises(fio.FindingsFileError, match=r"odd\.json.*version-2 file cannot hold key_images"):
        fio.load_findings(tmp_path / "odd.json")


@pytest.mark.parametrize("bad, needle", [
    (dict(key_image_id=""), "non-empty key_image_id"),
    (dict(plane="oblique"), "plane"),
    (dict(frame=0), "frame"),
    (dict(window_width=0.0), "window width"),
])
def test_bad_key_image_is_refused_with_its_problem(bad, needle):
    base = dict(key_image_id="k", series_instance_uid="1.2", sop_instance_uid="1.3")
    with pytest.raises(ValueError, match=needle):
        m.KeyImage(**{**base, **bad})


def test_two_key_images_with_one_id_are_refused():
    k = m.KeyImage(key_image_id="k", series_instance_uid="1.2", sop_instance_uid="1.3")
    with pytest.raises(ValueError, match="same key_image_id"):
        m.StudyFindings(key_images=(k, k))
    assert m.StudyFindings().with_key_image(k).with_key_image(k).key_images == (k,)


def test_key_object_selection_references_the_source_images(tmp_path):
    from app.report.key_objects import export_key_objects

    findings, keys = _with_keys(tmp_path)
    out = export_key_objects(findings, tmp_path / "study", tmp_path / "ko.dcm")
    ko = pydicom.dcmread(out)
    src = pydicom.dcmread(tmp_path / "study" / "dx.dcm", stop_before_pixels=True)
    assert ko.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.59" and ko.Modality == "KO"
    assert ko.StudyInstanceUID == src.StudyInstanceUID and ko.PatientID == src.PatientID
    refs = {str(r.ReferencedSOPSequence[0].ReferencedSOPInstanceUID)
            for r in _content_items(ko) if r.get("ValueType", "") == "IMAGE"}
    assert refs == {keys[0].sop_instance_uid}
    assert any("L5 defects & slip" in str(it.get("TextValue", "")) for it in _content_items(ko))
    if shutil.which("dciodvfy"):
        res = subprocess.run(["dciodvfy", str(out)], capture_output=True, text=True, timeout=120)
        assert [ln for ln in (res.stdout + res.stderr).splitlines() if ln.startswith("Error")] == []


def test_key_object_selection_needs_key_images_of_this_study(tmp_path):
    from app.report.identity import ReportError
    from app.report.key_objects import export_key_objects

    findings = case04_findings()
    write_study(tmp_path / "study", findings.study_instance_uid)
    with pytest.raises(ReportError, match="no key images marked"):
        export_key_objects(findings, tmp_path / "study", tmp_path / "ko.dcm")
    stray = findings.with_key_image(m.KeyImage(key_image_id="k", series_instance_uid="1.2.3", sop_instance_uid="1.2.3.4"))
    with pytest.raises(ReportError, match=r"not in the given study: 1\.2\.3\.4"):
        export_key_objects(stray, tmp_path / "study", tmp_path / "ko.dcm")
