"""Findings JSON: the schema matches what findings_to_dict writes; load_findings refuses bad files clearly."""

from __future__ import annotations

import copy
import dataclasses
import json

import jsonschema
import pytest
from findings_factories import rich_findings, study_findings
from hypothesis import HealthCheck, given, settings

from app.findings import io as fio, model as m
from app.findings.schema import load_schema, validate_document


def test_schema_is_valid_draft_2020_12():
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize(
    "cls, pointer",
    [(m.StudyFindings, None), (m.ParsFinding, "pars"), (m.Edema, "edema"), (m.AnnotationRef, "annotation_ref"),
     (m.Slip, "slip"), (m.LevelFinding, "level_finding"), (m.ClinicalContext, "context"),
     (m.InstabilityMeasurement, "instability_measured"), (m.SpinoPelvic, "spinopelvic"), (m.ImagingPerformed, "imaging"),
     (m.KeyImage, "key_image")],
)
def test_schema_properties_match_model_fields(cls, pointer):
    schema = load_schema()
    node = schema if pointer is None else schema["$defs"][pointer]
    assert node["additionalProperties"] is False
    fields = {f.name for f in dataclasses.fields(cls)}
    if cls is m.StudyFindings:
        fields = (fields - {"schema_version"}) | {"schema_version", "format"}
    assert set(node["properties"]) == fields
    required = {f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    assert set(node.get("required", [])) - {"format", "schema_version"} == required


def test_enums_in_schema_match_model():
    d = load_schema()["$defs"]
    assert d["pars"]["properties"]["status"]["enum"] == [s.value for s in m.ParsStatus]
    assert d["level"]["enum"] == [lv.value for lv in m.Level]
    assert d["pars"]["properties"]["ct_stage_override"]["enum"] == [s.value for s in m.CTStage]
    assert d["slip"]["properties"]["technique"]["enum"] == [t.value for t in m.SlipTechnique]
    assert d["modality"]["enum"] == [t.value for t in m.ImagingModality]
    ctx = d["context"]["properties"]
    assert ctx["neuro_deficit"]["enum"] == [t.value for t in m.NeuroDeficit]
    assert ctx["sex"]["enum"] == [t.value for t in m.Sex]
    assert ctx["sport_level"]["enum"] == [t.value for t in m.SportLevel]
    assert set(ctx["from_dicom"]["items"]["enum"]) == m.CONTEXT_FIELDS_FROM_DICOM


def test_rich_findings_round_trip(tmp_path):
    f = rich_findings()
    doc = fio.findings_to_dict(f)
    assert validate_document(doc) == []
    path = tmp_path / "f.json"
    fio.save_findings(f, path)
    assert fio.load_findings(path) == f
    assert fio.loads_findings(fio.dumps_findings(f)) == f
    assert doc["format"] == "isthmus-findings" and doc["schema_version"] == m.SCHEMA_VERSION


def test_empty_findings_round_trip():
    f = m.StudyFindings()
    assert fio.findings_to_dict(f) == {"format": "isthmus-findings", "schema_version": 4, "context": {}, "imaging": {}}
    assert fio.loads_findings(fio.dumps_findings(f)) == f


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(study_findings())
def test_generated_findings_validate_and_round_trip(f):
    doc = fio.findings_to_dict(f)
    assert validate_document(doc) == []
    assert fio.loads_findings(json.dumps(doc)) == f


def _doc():
    return fio.findings_to_dict(rich_findings())


def _bad(mutate):
    doc = copy.deepcopy(_doc())
    mutate(doc)
    return doc


BAD_DOCS = {
    "unknown top-level key": (lambda d: d.update(colour="blue"), "colour"),
    "wrong status": (lambda d: d["pars"][0].update(status="broken"), "broken"),
    "missing side": (lambda d: d["pars"][0].pop("side"), "side"),
    "grade out of range": (lambda d: d["pars"][2].update(mri_grade_override=7), "7"),
    "grade not integer": (lambda d: d["pars"][2].update(mri_grade_override="3"), "'3'"),
    "edema sites while absent": (lambda d: d["pars"][2]["edema"].update(sites=["pars"]), "pars/2/edema"),
    "bad edema site": (lambda d: d["pars"][1]["edema"].update(sites=["lamina"]), "lamina"),
    "negative gap": (lambda d: d["pars"][1].update(gap_mm=-1), "gap_mm"),
    "slip over 200": (lambda d: d["levels"][1]["slip"].update(percent=250), "250"),
    "slip missing percent": (lambda d: d["levels"][1]["slip"].pop("percent"), "percent"),
    "landmark with 4 numbers": (lambda d: d["levels"][1]["slip"]["landmarks_lps"].update(x=[1, 2, 3, 4]), "landmarks_lps"),
    "pfirrmann 6": (lambda d: d["levels"][0].update(disc_pfirrmann=6), "6"),
    "bool as number": (lambda d: d["context"].update(age_years=True), "age_years"),
    "vas 11": (lambda d: d["context"].update(pain_vas=11), "pain_vas"),
    "unknown context key": (lambda d: d["context"].update(height_cm=170), "height_cm"),
    "provenance without id": (lambda d: d["pars"][1]["provenance"][0].pop("annotation_id"), "annotation_id"),
    "frame zero": (lambda d: d["pars"][1]["provenance"][1].update(frame=0), "frame"),
    "pixel point with 3 numbers": (lambda d: d["pars"][1]["provenance"][0].update(points_px=[[1, 2, 3]]), "points_px"),
    "pars not a list": (lambda d: d.update(pars={}), "pars"),
    "level S6": (lambda d: d["levels"][0].update(level="S6"), "S6"),
}


@pytest.mark.parametrize("name", sorted(BAD_DOCS))
def test_bad_documents_are_refused_with_a_clear_message(name, tmp_path):
    mutate, needle = BAD_DOCS[name]
    doc = _bad(mutate)
    assert validate_document(doc), "the schema must catch it"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(fio.FindingsFileError) as exc:
        fio.load_findings(path)
    msg = str(exc.value)
    assert str(path) in msg and "invalid findings file" in msg and needle in msg


def test_duplicate_pars_entry_caught_by_model(tmp_path):
    doc = _doc()
    doc["pars"].append(copy.deepcopy(doc["pars"][0]))
    assert validate_document(doc) == []  # uniqueness per level/side is the model's job
    with pytest.raises(fio.FindingsFileError, match="two pars findings for L4 left"):
        fio.findings_from_dict(doc, tmp_path / "x.json")


def test_newer_version_refused_with_update_hint(tmp_path):
    doc = _doc()
    doc["schema_version"] = m.SCHEMA_VERSION + 1
    doc["something_new"] = {"a": 1}
    path = tmp_path / "new.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(fio.FindingsFileError, match=rf"newer Isthmus .*version {m.SCHEMA_VERSION + 1}.*Update Isthmus") as exc:
        fio.load_findings(path)
    assert exc.value.path == path


@pytest.mark.parametrize("version", [None, "1", 1.5, 0, True])
def test_missing_or_bad_version(version):
    doc = _doc()
    if version is None:
        doc.pop("schema_version")
    else:
        doc["schema_version"] = version
    with pytest.raises(fio.FindingsFileError, match=r"schema_version|invalid findings file"):
        fio.findings_from_dict(doc)


def test_not_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "isthmus-findings", "schema_version": 1,')
    with pytest.raises(fio.FindingsFileError, match=r"not valid JSON \(line 1, column"):
        fio.load_findings(path)


def test_binary_file(tmp_path):
    path = tmp_path / "image.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    with pytest.raises(fio.FindingsFileError, match=r"cannot read|not valid JSON"):
        fio.load_findings(path)


@pytest.mark.parametrize("text, needle", [
    ('{"format": "something-else", "schema_version": 1}', "not an Isthmus findings file"),
    ('{"schema_version": 1}', "not an Isthmus findings file"),
    ('[1, 2, 3]', "expected a JSON object"),
    ('"isthmus-findings"', "expected a JSON object"),
])
def test_wrong_format(text, needle):
    with pytest.raises(fio.FindingsFileError, match=needle):
        fio.loads_findings(text)


def test_missing_file(tmp_path):
    with pytest.raises(fio.FindingsFileError, match="file not found"):
        fio.load_findings(tmp_path / "nope.json")


def test_required_empty_fields_still_written():
    # annotation_id is required, so _plain must never drop it (it would make the file unreadable)
    doc = fio.findings_to_dict(rich_findings())
    for ref in doc["pars"][1]["provenance"]:
        assert ref["annotation_id"] and ref["kind"]
    slip = fio.findings_to_dict(m.StudyFindings(levels=(m.LevelFinding("L5", slip=m.Slip(0.0)),)))["levels"][0]["slip"]
    assert slip["percent"] == 0.0


def test_documented_example_loads_with_the_documented_derivations():
    import re

    from app.core.paths import resources_dir

    doc = (resources_dir().parent / "docs" / "findings-format.md").read_text(encoding="utf-8")
    example = re.search(r"```json\n(.*?)```", doc, re.S).group(1)
    f = fio.loads_findings(example)
    left, right = f.pars_at("L5", "left"), f.pars_at("L5", "right")
    assert (left.mri_grade, left.ct_stage) == (3, m.CTStage.PROGRESSIVE)
    assert (right.mri_grade, right.ct_stage_derived, right.ct_stage) == (4, m.CTStage.TERMINAL, m.CTStage.PROGRESSIVE)
    slip = f.level("L5").slip
    assert slip.grade is m.MeyerdingGrade.II and slip.near_boundary
    assert fio.loads_findings(fio.dumps_findings(f)) == f


def _with_outline(doc, points):
    doc = copy.deepcopy(doc)
    doc["pars"][1]["provenance"][0]["points_px"] = points
    return doc


def test_long_outlines_are_checked_point_by_point_with_their_json_path():
    good = [[float(i), i / 2] for i in range(5000)]
    assert validate_document(_with_outline(_doc(), good)) == []
    for bad_point in ([1.0, True], [1.0], [1.0, 2.0, 3.0], ["1", 2.0], None, [1.0, None]):
        pts = [*good[:700], bad_point, *good[700:]]
        problems = validate_document(_with_outline(_doc(), pts))
        assert problems and problems[0].startswith("pars/1/provenance/0/points_px/700: "), (bad_point, problems)


def test_validation_leaves_the_document_untouched():
    doc = _with_outline(_doc(), [[float(i), 1.0] for i in range(100)])
    before = copy.deepcopy(doc)
    validate_document(doc)
    assert doc == before


def test_a_long_outline_is_read_into_exact_points_and_non_finite_is_refused(tmp_path):
    pts = [[i * 0.25, 512 - i * 0.5] for i in range(3000)]
    f = fio.findings_from_dict(_with_outline(_doc(), pts))
    ref = f.pars_at("L5", "left").provenance[0] if f.pars_at("L5", "left").provenance else None
    assert ref is not None and ref.points_px == tuple((a, b) for a, b in pts)
    path = tmp_path / "nan.json"
    path.write_text(json.dumps(_with_outline(_doc(), [*pts[:50], [float("nan"), 1.0]])))
    with pytest.raises(fio.FindingsFileError, match="pixel point must be finite") as exc:
        fio.load_findings(path)
    assert exc.value.path == path
