"""`isthmus findings validate` and `isthmus sr export/import` through app.cli.main (in process)."""

from __future__ import annotations

import json

import pydicom
import pytest
from findings_factories import STUDY_UID, rich_findings
from synthetic_study import write_ct_study

from app.cli import main
from app.findings import io as fio, model as m


@pytest.fixture()
def rich_file(tmp_path):
    path = tmp_path / "rich.json"
    fio.save_findings(rich_findings(), path)
    return path


def test_validate_ok_prints_summary(rich_file, capsys):
    assert main(["findings", "validate", str(rich_file)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"OK {rich_file}")
    assert "pars L5 right: chronic nonunion, no edema, gap 4 mm, Hollenberg 3 (override), CT progressive (override)" in out
    assert "27.5 % = Meyerding II (near a grade boundary)" in out
    assert "CT progressive (from the CT read), read on CT, MR" in out
    assert "read on radiograph: suspected, not confirmed" in out
    assert "flexion-extension motion 4.5 mm, 12.25 %, 11 deg" in out
    assert "spino-pelvic: PI 52.5 deg, PT 14 deg, SS 38.5 deg, LL -48 deg" in out
    assert "imaging: radiographs, flexion-extension views not done, CT, MRI" in out


def test_validate_invalid_lists_every_problem_and_exits_1(tmp_path, rich_file, capsys):
    bad = tmp_path / "bad.json"
    doc = fio.findings_to_dict(rich_findings())
    doc["pars"][0]["status"] = "broken"
    doc["levels"][0]["disc_pfirrmann"] = 9
    for i in range(5):
        doc["context"][f"extra{i}"] = 1
    bad.write_text(json.dumps(doc))
    assert main(["findings", "validate", str(bad), str(rich_file)]) == 1
    captured = capsys.readouterr()
    assert f"INVALID {bad}" in captured.out and f"OK {rich_file}" in captured.out
    assert "'broken' is not one of" in captured.out and "9 is greater than the maximum of 5" in captured.out
    assert captured.out.count("extra") >= 5  # all problems, not just the first five
    assert "1 of 2 file(s) invalid" in captured.err


@pytest.mark.parametrize("content, needle", [
    ("{oops", "not valid JSON"),
    ('{"format": "isthmus-findings", "schema_version": 7}', "newer Isthmus"),
    ('{"format": "other", "schema_version": 1}', "not an Isthmus findings file"),
])
def test_validate_reports_bad_files(tmp_path, capsys, content, needle):
    p = tmp_path / "f.json"
    p.write_text(content)
    assert main(["findings", "validate", str(p)]) == 1
    assert needle in capsys.readouterr().out


def test_sr_export_then_import_round_trip(tmp_path, rich_file, capsys):
    write_ct_study(tmp_path / "study")
    out = tmp_path / "out.dcm"
    assert main(["sr", "export", str(rich_file), "--study", str(tmp_path / "study"), "--out", str(out)]) == 0
    assert "3 referenced instance(s)" in capsys.readouterr().out
    assert pydicom.dcmread(out).StudyInstanceUID == STUDY_UID
    # stdout by default
    assert main(["sr", "import", str(out)]) == 0
    assert fio.loads_findings(capsys.readouterr().out) == rich_findings()
    # --out writes a file identical to the original
    back = tmp_path / "back.json"
    assert main(["sr", "import", str(out), "--out", str(back)]) == 0
    assert back.read_text() == rich_file.read_text()


def test_sr_export_errors_exit_1(tmp_path, rich_file, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["sr", "export", str(rich_file), "--study", str(tmp_path / "empty"), "--out", str(tmp_path / "x.dcm")]) == 1
    assert "no DICOM images found" in capsys.readouterr().err
    other = tmp_path / "other.json"
    fio.save_findings(m.StudyFindings(study_instance_uid="1.2.3"), other)
    write_ct_study(tmp_path / "study")
    assert main(["sr", "export", str(other), "--study", str(tmp_path / "study"), "--out", str(tmp_path / "x.dcm")]) == 1
    assert "no images of study 1.2.3" in capsys.readouterr().err
    assert not (tmp_path / "x.dcm").exists()


def test_sr_import_errors_exit_1(tmp_path, capsys):
    paths = write_ct_study(tmp_path / "study")
    assert main(["sr", "import", str(paths[0])]) == 1
    assert "not a DICOM Structured Report" in capsys.readouterr().err
    assert main(["sr", "import", str(tmp_path / "missing.dcm")]) == 1
    assert "file not found" in capsys.readouterr().err


def test_migrate_rewrites_version_1_files(tmp_path, rich_file, capsys):
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"format": "isthmus-findings", "schema_version": 1,
                               "pars": [{"level": "L5", "side": "left", "status": "complete_fracture"}]}))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert main(["findings", "migrate", str(old), str(rich_file), str(broken)]) == 1
    out = capsys.readouterr().out
    assert f"MIGRATED {old} (version 1 -> {m.SCHEMA_VERSION})" in out and f"CURRENT {rich_file}" in out
    assert f"INVALID {broken}" in out and "not valid JSON" in out
    assert json.loads(old.read_text())["schema_version"] == m.SCHEMA_VERSION
    assert fio.load_findings(old).pars_at("L5", "left").read_on == frozenset()
