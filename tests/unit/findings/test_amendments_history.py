"""The review history in the findings (schema 4): who amended a reviewed read, when and what;
JSON save/reopen, migration 3 -> 4, SR export/import, the clinic report."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess

import pydicom
import pytest
from findings_factories import STUDY_UID, rich_findings
from synthetic_study import write_ct_study

from app.findings import io as fio, model as m
from app.findings.sr import export_sr, findings_to_sr, load_findings_from_sr, read_study_headers
from app.report.amendments import amendment
from app.report.html_render import render_html
from app.report.model import build_report

HISTORY = (
    m.Amendment(reader="Dr Zoë Amender", at="2026-12-01T09:40:12+00:00", changes=("pars L5 left", "impression")),
    m.Amendment(reader="Mr B <Surgeon> & co", at="2026-12-02T14:05:00+00:00", changes=("level L4",)),
)


def _amended() -> m.StudyFindings:
    f = rich_findings()
    for a in HISTORY:
        f = f.with_amendment(a)
    return f


def test_amendment_is_computed_from_the_change_and_appended_in_order():
    before = rich_findings()
    after = before.with_pars(m.ParsFinding("L3", "right", m.ParsStatus.COMPLETE_FRACTURE))
    rec = amendment("Dr C", before, after, now=dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC))
    assert rec == m.Amendment("Dr C", "2026-12-03T08:00:00+00:00", ("pars L3 right",))
    assert after.with_amendment(rec).amendments == (rec,)
    assert amendment("Dr C", before, before) is None  # nothing changed, nothing recorded


@pytest.mark.parametrize("kwargs, needle", [
    ({"reader": " ", "at": "2026-12-01T09:40:00", "changes": ("impression",)}, "reader"),
    ({"reader": "Dr A", "at": "", "changes": ("impression",)}, "at"),
    ({"reader": "Dr A", "at": "2026-12-01T09:40:00", "changes": ()}, "changed item"),
])
def test_an_amendment_needs_reader_time_and_changes(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        m.Amendment(**kwargs)


def test_history_survives_save_and_reopen(tmp_path):
    f = _amended()
    fio.save_findings(f, tmp_path / "read.json")
    doc = json.loads((tmp_path / "read.json").read_text(encoding="utf-8"))
    assert doc["schema_version"] == 4
    assert doc["amendments"][0] == {"reader": "Dr Zoë Amender", "at": "2026-12-01T09:40:12+00:00",
                                    "changes": ["pars L5 left", "impression"]}
    assert fio.load_findings(tmp_path / "read.json").amendments == HISTORY
    assert "amendments" not in fio.findings_to_dict(rich_findings())  # never amended: key left out


def test_autosave_keeps_the_history(tmp_path):
    from app.findings import autosave as asv

    with asv.Autosaver(STUDY_UID, data_dir=tmp_path) as saver:
        saver.update(_amended(), None)
        saver.flush()
    findings, _ = asv.load_autosave(STUDY_UID, data_dir=tmp_path)
    assert findings.amendments == HISTORY


def test_a_broken_amendment_in_a_file_is_refused_naming_the_file(tmp_path):
    doc = fio.findings_to_dict(_amended())
    doc["amendments"][1]["changes"] = []
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(fio.FindingsFileError) as exc:
        fio.load_findings(path)
    assert str(path) in str(exc.value) and "amendments/1/changes" in str(exc.value)


def test_version_3_file_migrates_to_an_empty_history(tmp_path):
    doc = fio.findings_to_dict(rich_findings())
    doc["schema_version"] = 3
    path = tmp_path / "v3.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    f = fio.load_findings(path)
    assert f.amendments == () and f.schema_version == 4 and f.pars == rich_findings().pars
    assert fio.migrate_findings_file(path) == 3
    assert json.loads(path.read_text(encoding="utf-8"))["schema_version"] == 4
    doc["amendments"] = [{"reader": "Dr A", "at": "2026-12-01T09:40:00", "changes": ["impression"]}]
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(fio.FindingsFileError, match="version-3 file cannot hold amendments"):
        fio.load_findings(path)


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("study")
    write_ct_study(d / "ct")
    return d


def test_history_survives_sr_export_and_import(study_dir, tmp_path):
    f = _amended()
    out = export_sr(f, tmp_path / "sr.dcm", study=study_dir)
    back = load_findings_from_sr(out)
    assert back.amendments == HISTORY and back == f
    ds = pydicom.dcmread(out)
    groups = [g for cont in ds.ContentSequence if "ContentSequence" in cont for g in cont.ContentSequence]
    ids = [it.TextValue for g in groups for it in g.get("ContentSequence", []) if it.ValueType == "TEXT"
           and it.ConceptNameCodeSequence[0].CodeValue == "112039"]
    assert ids.count("Amendment") == 2
    if shutil.which("dciodvfy"):
        res = subprocess.run(["dciodvfy", str(out)], capture_output=True, text=True, timeout=60)
        assert not [line for line in (res.stdout + res.stderr).splitlines() if line.startswith("Error")]


def test_sr_without_amendment_groups_imports_with_an_empty_history(study_dir):
    sr = findings_to_sr(rich_findings(), read_study_headers(study_dir, STUDY_UID))
    from app.findings.sr import findings_from_sr

    assert findings_from_sr(sr).amendments == ()


def test_report_shows_the_stored_history_escaped_and_not_when_anonymised():
    f = _amended()
    page = render_html(build_report(f, None, None))
    assert "2026-12-01 09:40 Dr Zoë Amender: pars L5 left, impression" in page
    assert "Mr B &lt;Surgeon&gt; &amp; co: level L4" in page
    anon = render_html(build_report(f, None, None, anonymise=True))
    assert "Amender" not in anon and "Surgeon" not in anon
