"""The Qt-free report model and its HTML: content, escaping, anonymising, unknown stays unknown."""

from __future__ import annotations

from dataclasses import replace

import pytest
from report_data import case04_findings, case04_result, with_impression, write_study

from app.findings import model as fm
from app.report.html_render import render_html
from app.report.identity import ReportError, read_study
from app.report.model import build_report

HOSTILE_NAME = "<script>alert(1)</script>&Co^Eve"
HOSTILE_IMPRESSION = "L5 <script>alert('x')</script> defects & slip"


def test_html_escapes_patient_name_and_impression(tmp_path):
    findings = with_impression(case04_findings(), HOSTILE_IMPRESSION)
    write_study(tmp_path / "study", findings.study_instance_uid, patient_name=HOSTILE_NAME)
    identity, _ = read_study(tmp_path / "study", findings.study_instance_uid)
    page = render_html(build_report(findings, case04_result(findings), identity))
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&amp;Co, Eve" in page
    assert "L5 &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; defects &amp; slip" in page


def test_header_comes_from_the_study_images(tmp_path):
    findings = case04_findings()
    write_study(tmp_path / "study", findings.study_instance_uid, patient_name="Doe^Jane", study_description="LSPINE 3 VIEWS")
    identity, _ = read_study(tmp_path / "study", findings.study_instance_uid)
    report = build_report(findings, case04_result(findings), identity)
    header = dict(report.header)
    assert header["Patient"] == "Doe, Jane"
    assert header["Study date"] == "2024-03-15"
    assert header["Study"] == "LSPINE 3 VIEWS"
    assert header["Pathway ruleset"].endswith(case04_result(findings).ruleset_version)


def test_anonymised_report_has_no_identity_and_no_dates(tmp_path):
    findings = case04_findings()
    write_study(tmp_path / "study", findings.study_instance_uid, patient_name="Quillfeather^Jane")
    identity, _ = read_study(tmp_path / "study", findings.study_instance_uid)
    page = render_html(build_report(findings, case04_result(findings), identity, anonymise=True))
    for leaked in ("Quillfeather", "SYN-REPORT-04", "2024-03-15", "1985-06-01", findings.reader, "ACC04"):
        assert leaked not in page
    assert "Chronic bilateral L5 spondylolysis" in page  # the clinical content stays


def test_unknown_values_read_unknown_not_normal():
    findings = fm.StudyFindings(
        pars=(fm.ParsFinding(level="L5", side="left", status="incomplete_fracture"),),
        levels=(fm.LevelFinding(level="L5"),))
    report = build_report(findings, None, None)
    row = report.pars_rows[0]
    assert row.edema == "not assessed"
    assert row.mri_grade == "unknown"
    items = dict(report.level_rows[0].items)
    assert items["Slip"] == "not assessed"
    assert items["Disc below (Pfirrmann)"] == "unknown"
    assert items["Instability (reader)"] == "unknown"
    assert dict(report.header)["Patient"] == "unknown"


def test_images_of_another_study_are_refused(tmp_path):
    findings = case04_findings()
    write_study(tmp_path / "study", "1.2.826.0.1.3680043.8.498.999")
    identity, _ = read_study(tmp_path / "study")
    with pytest.raises(ReportError, match=r"1\.2\.826\.0\.1\.3680043\.8\.498\.999"):
        build_report(findings, None, identity)


def test_folder_without_images_names_the_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportError, match="empty: no DICOM images found for the report"):
        read_study(tmp_path / "empty")


def test_slip_and_edema_ratio_are_in_words():
    findings = replace(case04_findings())
    lv = fm.LevelFinding(level="L5", slip=fm.Slip(percent=24.0, slip_angle_deg=12.0,
                                                   slip_angle_endplate=fm.SlipAngleEndplate.L5_INFERIOR,
                                                   landmarks_lps={"a": (1.0, 2.0, 3.0)}),
                         instability_measured=fm.InstabilityMeasurement(translation_mm=4.5, angulation_deg=None))
    p = fm.ParsFinding(level="L4", side="right", status="stress_reaction",
                       edema=fm.Edema(present=True, sites={"pars"}, signal_ratio=1.83))
    report = build_report(findings.with_level(lv).with_pars(p), None, None)
    items = dict(next(r for r in report.level_rows if r.level == "L5").items)
    assert items["Slip"] == "24.0 % anterolisthesis, Meyerding I (near a grade boundary)"
    assert "calibrated volume" in items["Slip technique"]
    assert items["Slip angle"] == "12.0° (L5 inferior endplate)"
    assert items["Instability (measured)"] == "translation 4.5 mm (unknown of endplate), angulation unknown"
    row = next(r for r in report.pars_rows if r.level == "L4")
    assert row.edema == "present (pars), signal ratio 1.83"


def test_missing_ct_stage_says_why():
    findings = fm.StudyFindings(pars=(
        fm.ParsFinding(level="L5", side="left", status="complete_fracture", read_on={"radiograph"}),
        fm.ParsFinding(level="L5", side="right", status="intact", edema=fm.Edema(present=False)),
    ))
    rows = {r.side: r.ct_stage for r in build_report(findings, None, None).pars_rows}
    assert rows == {"left": "not staged (not read on CT or MRI)", "right": "none (intact)"}
