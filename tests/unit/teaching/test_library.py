"""Case format and library: metadata round trip, typed errors naming the file, discovery of
bundled, folder and user cases, filters."""

from __future__ import annotations

import json

import pytest

from app.findings.io import save_findings
from app.findings.model import Level
from app.samples.cases import case_by_number
from app.samples.generate import reference_read
from app.teaching.case import CASE_FILE, CaseMetadata, TeachingCaseError, read_case_metadata, write_case_metadata
from app.teaching.library import load_library


def _make_case(folder, case_id, sample=3, **meta):
    folder.mkdir(parents=True)
    (folder / "images").mkdir()
    save_findings(reference_read(case_by_number(sample)), folder / "reference_read.json")
    m = CaseMetadata(case_id=case_id, title=f"Case {case_id}", history="Back pain.", images="images", **meta)
    write_case_metadata(folder, m)
    return m


def test_metadata_round_trip(tmp_path):
    m = _make_case(tmp_path / "c", "c1", difficulty="advanced", tags=("L5", "edema"), learning_points=("Look at STIR.",))
    assert read_case_metadata(tmp_path / "c" / CASE_FILE) == m


@pytest.mark.parametrize("doc, problem", [
    ("{", "not valid JSON"),
    ({"format": "something"}, "not an Isthmus teaching case"),
    ({"format": "isthmus-teaching-case", "version": 99}, "newer Isthmus"),
    ({"format": "isthmus-teaching-case", "version": 1, "case_id": "a", "title": "t", "history": "h", "x": 1}, "unknown key"),
    ({"format": "isthmus-teaching-case", "version": 1, "case_id": "a", "title": "t", "history": "h",
      "difficulty": "hard"}, "difficulty must be one of"),
    ({"format": "isthmus-teaching-case", "version": 1, "case_id": "a", "title": "t", "history": "h",
      "images": "../elsewhere"}, "inside the case folder"),
])
def test_bad_metadata_is_a_typed_error_naming_the_file(tmp_path, doc, problem):
    path = tmp_path / CASE_FILE
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    with pytest.raises(TeachingCaseError, match=problem) as exc:
        read_case_metadata(path)
    assert str(path) in str(exc.value)


def test_library_finds_folder_cases_reports_broken_ones_and_filters(tmp_path, monkeypatch):
    monkeypatch.setenv("ISTHMUS_DATA_DIR", str(tmp_path / "data"))
    root = tmp_path / "lib"
    _make_case(root / "a", "a", sample=3, difficulty="beginner", tags=("bilateral",))
    _make_case(root / "sub" / "b", "b", sample=5, difficulty="advanced")
    _make_case(root / "n", "n", sample=1)
    broken = root / "broken"
    broken.mkdir()
    (broken / CASE_FILE).write_text("{}", encoding="utf-8")
    lib = load_library([root], bundled_dir=tmp_path / "none")
    assert sorted(c.case_id for c in lib.cases) == ["a", "b", "n"]
    assert len(lib.problems) == 1 and str(broken / CASE_FILE) in str(lib.problems[0])
    assert [c.case_id for c in lib.filter(level=Level.L4)] == ["b"]
    assert lib.get("n").levels == ()
    assert [c.case_id for c in lib.filter(difficulty="beginner")] == ["a"]
    assert [c.case_id for c in lib.filter(tag="BILATERAL")] == ["a"]
    assert sorted(c.case_id for c in lib.filter(not_attempted_by={"a"})) == ["b", "n"]


def test_bundled_cases_use_their_builtin_metadata(tmp_path, monkeypatch):
    monkeypatch.setenv("ISTHMUS_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "samples" / "case05_l4_unilateral"
    folder.mkdir(parents=True)
    save_findings(reference_read(case_by_number(5)), folder / "reference_read.json")
    lib = load_library(bundled_dir=tmp_path / "samples")
    (case,) = lib.cases
    assert case.meta.source == "bundled" and case.levels == (Level.L4,)
    assert "L4" not in case.meta.history  # the history never gives the answer away


def test_a_missing_reference_read_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("ISTHMUS_DATA_DIR", str(tmp_path / "data"))
    _make_case(tmp_path / "lib" / "a", "a")
    (tmp_path / "lib" / "a" / "reference_read.json").unlink()
    lib = load_library([tmp_path / "lib"], bundled_dir=tmp_path / "none")
    assert lib.cases == [] and "reference read" in str(lib.problems[0])
