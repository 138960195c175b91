"""The clinic list: dated, ordered, per-entry tier / patient / report-exists; unknown stays unknown."""

from __future__ import annotations

import pytest
from report_data import case04_findings, case04_result, write_study

from app.findings.io import save_findings
from app.report.clinic_list import ClinicList, load_clinic_list, save_clinic_list, summarise
from app.report.identity import ReportError


def test_rows_show_patient_tier_headline_and_report_state(tmp_path):
    findings = case04_findings()
    write_study(tmp_path / "s1", findings.study_instance_uid, patient_name="Quill^Ann")
    save_findings(findings, tmp_path / "s1.json")
    clinic = ClinicList(date="2026-12-01").add(tmp_path / "s1", tmp_path / "s1.json")
    row = summarise(clinic.entries[0])
    expected = case04_result(findings)
    assert (row.patient, row.study_date, row.tier, row.headline) == ("Quill, Ann", "2024-03-15", expected.tier,
                                                                      expected.headline)
    assert row.report_exists is False
    (tmp_path / "s1.pdf").write_bytes(b"%PDF-1.4\n")
    assert summarise(clinic.entries[0]).report_exists is True


def test_missing_findings_reads_unknown_with_the_reason(tmp_path):
    write_study(tmp_path / "s2", "1.2.826.0.1.3680043.8.498.77")
    row = summarise(ClinicList().add(tmp_path / "s2", tmp_path / "none.json").entries[0])
    assert (row.tier, row.headline) == ("unknown", "unknown")
    assert "none.json: file not found" in row.problem


def test_save_reopen_order_and_navigation(tmp_path):
    clinic = ClinicList(date="2026-12-01")
    for name in ("a", "b", "c"):
        clinic = clinic.add(tmp_path / name, tmp_path / f"{name}.json")
    clinic = clinic.add(tmp_path / "a", tmp_path / "a.json")  # no duplicates
    save_clinic_list(clinic, tmp_path / "clinic.json")
    back = load_clinic_list(tmp_path / "clinic.json")
    assert back == clinic and [e.findings.name for e in back.entries] == ["a.json", "b.json", "c.json"]
    assert (back.neighbour(0, -1), back.neighbour(0, 1), back.neighbour(2, 1)) == (None, 1, None)
    assert [e.findings.name for e in back.remove(1).entries] == ["a.json", "c.json"]


def test_bad_list_files_name_the_file(tmp_path):
    (tmp_path / "x.json").write_text('{"format": "other"}')
    with pytest.raises(ReportError, match=r"x\.json: not an Isthmus clinic list"):
        load_clinic_list(tmp_path / "x.json")
    with pytest.raises(ReportError, match="YYYY-MM-DD"):
        ClinicList(date="1 Dec")
