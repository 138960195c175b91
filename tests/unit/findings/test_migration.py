"""Schema version 2: version-1 files are read with every new field unknown and rewritten as version 2."""

from __future__ import annotations

import json

import pytest

from app.findings import io as fio, model as m

# what Isthmus 1 wrote (schema version 1): no read_on / imaging / spinopelvic / sex ...
V1_DOC = {
    "format": "isthmus-findings", "schema_version": 1, "study_instance_uid": "1.2.826.0.1.3680043.8.498.1",
    "reader": "Dr A Reader",
    "pars": [{"level": "L5", "side": "left", "status": "complete_fracture",
              "edema": {"present": True, "sites": ["pars"]}, "gap_mm": 2.4}],
    "levels": [{"level": "L5", "slip": {"percent": 27.5}, "instability": True}],
    "context": {"age_years": 15, "neuro_deficit": "progressive"},
}


def test_version_1_document_loads_with_new_fields_unknown():
    f = fio.findings_from_dict(json.loads(json.dumps(V1_DOC)))
    assert f.schema_version == m.SCHEMA_VERSION == 4
    pars = f.pars_at("L5", "left")
    assert pars.read_on == frozenset() and pars.cross_sectional_confirmation is None
    # a stage is still derived, but labelled as resting on an unrecorded modality
    assert pars.ct_stage is m.CTStage.PROGRESSIVE and pars.ct_stage_basis is m.CTStageBasis.UNRECORDED
    assert f.imaging == m.ImagingPerformed() and f.imaging.ct is None
    assert f.spinopelvic is None and f.level("L5").instability_measured is None
    assert f.level("L5").instability is True
    assert (f.context.sex, f.context.sport_level, f.context.from_dicom) == (None, None, frozenset())
    assert f.context.neuro_deficit is m.NeuroDeficit.PROGRESSIVE


def test_migrate_file_rewrites_version_1_as_version_2(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps(V1_DOC))
    before = fio.load_findings(path)
    assert fio.migrate_findings_file(path) == 1
    doc = json.loads(path.read_text())
    assert doc["schema_version"] == m.SCHEMA_VERSION and doc["imaging"] == {}
    assert "read_on" not in doc["pars"][0]  # unknown stays unknown, never "none"
    assert fio.load_findings(path) == before
    assert fio.migrate_findings_file(path) is None  # already current: not rewritten
    assert json.loads(path.read_text()) == doc


@pytest.mark.parametrize("mutate, needle", [
    (lambda d: d["pars"][0].update(read_on=["CT"]), "pars/0/read_on"),
    (lambda d: d.update(spinopelvic={}), "spinopelvic"),
    (lambda d: d["levels"][0].update(instability_measured={"translation_mm": 4}), "levels/0/instability_measured"),
    (lambda d: d["context"].update(sex="F"), "context/sex"),
    (lambda d: d["context"].update(neuro_deficit="severe"), "severe"),
])
def test_version_1_file_with_version_2_keys_is_refused(mutate, needle, tmp_path):
    doc = json.loads(json.dumps(V1_DOC))
    mutate(doc)
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(fio.FindingsFileError) as exc:
        fio.load_findings(path)
    assert str(path) in str(exc.value) and "version-1" in str(exc.value) and needle in str(exc.value)


def test_same_keys_are_valid_in_version_2():
    doc = json.loads(json.dumps(V1_DOC))
    doc["schema_version"] = 2
    doc["pars"][0]["read_on"] = ["CT", "radiograph"]
    doc["context"].update(neuro_deficit="severe", sex="M", from_dicom=["sex"], sport_level="professional")
    f = fio.findings_from_dict(doc)
    assert f.pars[0].read_on == {m.ImagingModality.CT, m.ImagingModality.RADIOGRAPH}
    assert f.context.neuro_deficit is m.NeuroDeficit.SEVERE and f.context.from_dicom == {"sex"}


def test_from_dicom_names_only_header_fields():
    with pytest.raises(ValueError, match=r"from_dicom .*pain_vas"):
        m.ClinicalContext(pain_vas=3, from_dicom=frozenset({"pain_vas"}))
    doc = json.loads(json.dumps(V1_DOC))
    doc["schema_version"] = 2
    doc["context"]["from_dicom"] = ["odi"]
    with pytest.raises(fio.FindingsFileError, match="from_dicom"):
        fio.findings_from_dict(doc)


def test_version_1_autosave_restores_migrated(tmp_path):
    from app.findings import autosave as asv

    uid = "1.2.826.0.1.3680043.8.498.1"
    path = asv.autosave_path(uid, tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"format": "isthmus-autosave", "version": 1, "study_instance_uid": uid,
                                "saved": "2026-11-21T10:00:00.000+00:00", "saved_unix": 0.0,
                                "findings": V1_DOC, "annotations": None}))
    findings, annotations = asv.load_autosave(uid, tmp_path)
    assert findings.schema_version == m.SCHEMA_VERSION and findings.pars_at("L5", "left").read_on == frozenset()
    assert annotations is None
