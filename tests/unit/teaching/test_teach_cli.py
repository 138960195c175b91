"""`isthmus teach score|make-case|list|export-csv`: the same scoring and authoring as the core."""

from __future__ import annotations

import dataclasses
import json

from app.cli import main
from app.findings import model as fm
from app.findings.io import findings_to_dict, save_findings
from app.samples.cases import case_by_number
from app.samples.generate import reference_read
from app.teaching.history import History
from app.teaching.scoring import score_read
from tests.unit.dicom.conftest import SeriesWriter


def _files(tmp_path):
    ref = reference_read(case_by_number(5))
    read = dataclasses.replace(ref, pars=tuple(p for p in ref.pars if p.side is fm.Side.LEFT))
    save_findings(ref, tmp_path / "ref.json")
    save_findings(read, tmp_path / "read.json")
    return read, ref


def test_score_json_is_the_core_scoring(tmp_path, capsys):
    read, ref = _files(tmp_path)
    assert main(["teach", "score", str(tmp_path / "read.json"), str(tmp_path / "ref.json"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == json.loads(json.dumps(score_read(read, ref).to_dict()))
    assert doc["score_pct"] < 100


def test_score_text_names_the_errors_and_settings_apply(tmp_path, capsys):
    _files(tmp_path)
    assert main(["teach", "score", str(tmp_path / "read.json"), str(tmp_path / "ref.json"),
                 "--no-pathway", "--set", "missed_lesion=33"]) == 0
    out = capsys.readouterr().out
    assert "Missed defect at L4 right" in out and "-33" in out and "Score: 67 %" in out


def test_score_bad_input_is_named(tmp_path, capsys):
    _files(tmp_path)
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    assert main(["teach", "score", str(tmp_path / "bad.json"), str(tmp_path / "ref.json")]) == 2
    assert str(tmp_path / "bad.json") in capsys.readouterr().err
    assert main(["teach", "score", str(tmp_path / "read.json"), str(tmp_path / "ref.json"), "--set", "bogus=1"]) == 2
    assert "unknown scoring setting" in capsys.readouterr().err


def test_make_case_then_list(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ISTHMUS_DATA_DIR", str(tmp_path / "data"))
    SeriesWriter(tmp_path / "study").stack(3, PatientName="Quill^Ada", PatientID="X-42")
    save_findings(fm.StudyFindings(pars=(fm.ParsFinding(fm.Level.L4, fm.Side.LEFT, fm.ParsStatus.STRESS_REACTION),)),
                  tmp_path / "read.json")
    assert main(["teach", "make-case", str(tmp_path / "study"), str(tmp_path / "read.json"), "--out",
                 str(tmp_path / "cases" / "ada_case"), "--title", "Runner", "--history", "Back pain.",
                 "--tag", "L4", "--learning-point", "Look at STIR."]) == 0
    capsys.readouterr()
    assert main(["teach", "list", str(tmp_path / "cases")]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert any(line.startswith("ada_case\tintermediate\tL4\tRunner\t") for line in lines)


def test_export_csv(tmp_path, capsys):
    read, ref = _files(tmp_path)
    with History(tmp_path / "h.sqlite3") as h:
        aid = h.start_attempt("Ann", "case05")
        h.submit(aid, findings_to_dict(read), score_read(read, ref, with_pathway=False))
    assert main(["teach", "export-csv", "--db", str(tmp_path / "h.sqlite3"), "--out", str(tmp_path / "x.csv")]) == 0
    lines = (tmp_path / "x.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("trainee,case_id,") and lines[1].startswith("Ann,case05,")
