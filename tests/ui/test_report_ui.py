"""Key images and the report from the workstation: mark a view (Review > Key image), list it in
the review dock, render it offscreen with its annotations burned in, export the report."""

from __future__ import annotations

import re
import shutil
import subprocess

import pydicom
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication
from test_annotation_tools import drag, opened, views_by_role  # noqa: F401 - the fixture is used


def _mark_length_key_image(win):
    from app.annotations.model import Length

    ws = win.annotations
    xr = views_by_role(win)["xr_left_oblique"]
    ws.tool_actions["length"].trigger()
    drag(xr, (40.0, 100.0), (140.0, 100.0))
    (length,) = ws.store.of_kind(Length)
    win.grid.set_active(xr)
    key = win.report.mark_key_image(caption="Left oblique <defect> & gap")
    return xr, length, key


def test_key_image_marks_the_active_view_with_its_annotations(opened):
    win = opened
    xr, length, key = _mark_length_key_image(win)
    session = win.annotations.session
    assert session.findings.key_images == (key,)
    assert key.sop_instance_uid == xr.display.radiograph.sop_instance_uid
    assert key.annotation_ids == (length.id,)
    assert key.zoom == pytest.approx(xr.zoom) and key.window_width is not None
    panel = win.annotations.review_widget.key_images_panel
    assert panel.list.count() == 1 and "Left oblique <defect> & gap" in panel.list.item(0).text()
    session.undo()  # a findings edit like any other
    assert session.findings.key_images == () and panel.list.count() == 0


def test_key_image_is_rendered_with_its_annotation_burned_in(opened):
    from app.ui.report.key_images import render_key_image, source_display_for

    win = opened
    xr, length, key = _mark_length_key_image(win)
    source = source_display_for(key, win.grid.all_views)
    assert source is xr.display
    with_ann = QImage.fromData(render_key_image(key, source, [length]), "PNG")
    without = QImage.fromData(render_key_image(key, source, []), "PNG")
    assert not with_ann.isNull() and with_ann.size() == without.size()
    differing = sum(1 for y in range(0, with_ann.height(), 2) for x in range(0, with_ann.width(), 2)
                    if with_ann.pixel(x, y) != without.pixel(x, y))
    assert differing > 20  # the measurement line and its label


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_export_report_pdf_and_dicom_from_the_workstation(opened, tmp_path):
    win = opened
    _mark_length_key_image(win)
    win.report.export_report(tmp_path / "r.pdf", anonymise=False)
    text = re.sub(r"\s+", " ", subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True,
                                              text=True, check=True).stdout)
    assert "PHANTOM, LUMBAR" in text and "Key images" in text and "Left oblique <defect> & gap" in text
    assert "DECISION SUPPORT" in text
    images = subprocess.run(["pdfimages", "-list", str(tmp_path / "r.pdf")], capture_output=True, text=True).stdout
    assert len(images.strip().splitlines()) >= 3  # header lines + the key image
    win.report.export_report(tmp_path / "r.dcm")
    ds = pydicom.dcmread(tmp_path / "r.dcm")
    assert ds.Modality == "DOC" and ds.StudyInstanceUID == win.annotations.session.findings.study_instance_uid
    anon = tmp_path / "anon.pdf"
    win.report.export_report(anon, anonymise=True)
    text = subprocess.run(["pdftotext", str(anon), "-"], capture_output=True, text=True, check=True).stdout
    assert "PHANTOM" not in text and "2026-01-01" not in text
    QApplication.processEvents()


def test_review_mode_is_read_only_until_amended_and_records_who_changed_what(opened, tmp_path):
    win = opened
    review = win.report.review_mode
    session = win.annotations.session
    widget = win.annotations.review_widget
    review.set_reviewing(True)
    assert not widget.findings_panel.isEnabled() and not widget.context_form.isEnabled()
    assert not win.annotations.tool_actions["length"].isEnabled()
    assert review.banner.text().startswith("REVIEW MODE")
    assert review.amend(reader="Dr Amender")
    assert widget.findings_panel.isEnabled() and win.annotations.tool_actions["length"].isEnabled()
    session.set_impression("Bilateral L5 <pars> defects")
    record = review.finish_amending()
    assert (record.reader, record.changes) == ("Dr Amender", ("impression",))
    assert not widget.findings_panel.isEnabled()
    win.report.export_report(tmp_path / "r.html", anonymise=False)
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Dr Amender: impression" in page and "Bilateral L5 &lt;pars&gt; defects" in page
    review.set_reviewing(False)
    assert widget.findings_panel.isEnabled()


def test_amendment_is_kept_in_the_findings_across_save_and_reopen(opened, tmp_path):
    from PySide6.QtCore import Qt

    from app.findings import model as m

    win = opened
    review, session = win.report.review_mode, win.annotations.session
    panel = win.annotations.review_widget.findings_panel
    review.set_reviewing(True)
    assert review.amend(reader="Dr Ämender")
    model = panel.pars_model
    row = next(r for r in range(model.rowCount()) if model.row_key(r) == (m.Level.L4, m.Side.RIGHT))
    assert model.setData(model.index(row, model.column_of("status")), "incomplete_fracture", Qt.ItemDataRole.EditRole)
    record = review.finish_amending()
    assert (record.reader, record.changes) == ("Dr Ämender", ("pars L4 right",))
    assert session.findings.amendments[-1] == record  # in the findings, not only in this review
    assert panel.save_to(tmp_path / "read.json")
    session.set_findings(m.StudyFindings(study_instance_uid=session.findings.study_instance_uid))
    assert session.findings.amendments == ()
    assert panel.open_from(tmp_path / "read.json")
    assert session.findings.amendments[-1] == record
    assert session.findings.pars_at("L4", "right").status is m.ParsStatus.INCOMPLETE_FRACTURE
    win.report.export_report(tmp_path / "r.html", anonymise=False)
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert f"{record.at[:16].replace('T', ' ')} Dr Ämender: pars L4 right" in page
    review.set_reviewing(False)


def test_review_mode_locks_undo_redo_and_delete_so_read_only_means_read_only(opened):
    """Ctrl+Z in read-only review must not change the findings; after Finish amending the
    amendment record cannot be undone away."""
    from app.findings import model as m

    win = opened
    ws, review, session = win.annotations, win.report.review_mode, win.annotations.session
    session.edit_pars("L4", "right", status="incomplete_fracture")  # an edit made while reading
    review.set_reviewing(True)
    before = session.findings
    assert not ws.undo_action.isEnabled() and not ws.delete_action.isEnabled()
    ws.undo_action.trigger()
    assert ws.undo() is False and session.findings == before
    assert review.amend(reader="Dr Amender")
    assert ws.undo_action.isEnabled()  # amending unlocks editing, undo included
    session.edit_pars("L4", "right", status="complete_fracture")
    record = review.finish_amending()
    assert record is not None and session.findings.amendments[-1] == record
    ws.undo_action.trigger()
    assert session.findings.amendments[-1] == record  # locked again: the record stays
    assert session.findings.pars_at(m.Level.L4, m.Side.RIGHT).status is m.ParsStatus.COMPLETE_FRACTURE
    review.set_reviewing(False)
    assert ws.undo_action.isEnabled()


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_clinic_list_prints_all_reports_and_steps_in_order(window, tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "report"))
    from report_data import case04_findings, write_study

    from app.findings.io import save_findings
    from app.ui.report.clinic_dialog import ClinicListDialog

    dialog = ClinicListDialog(window)
    for name in ("Alpha^Ann", "Beta^Bob"):
        findings = case04_findings()
        folder = tmp_path / name.split("^")[0]
        write_study(folder / "study", findings.study_instance_uid, patient_name=name)
        save_findings(findings, folder / "read.json")
        dialog.add(folder / "study", folder / "read.json")
    assert [dialog.table.item(r, 0).text() for r in range(2)] == ["Alpha, Ann", "Beta, Bob"]
    assert dialog.table.item(0, 4).text() == "no"
    out = dialog.save_all_pdf(tmp_path / "all.pdf")
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert text.index("Alpha, Ann") < text.index("Beta, Bob")
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    page_texts = [subprocess.run(["pdftotext", "-f", str(p), "-l", str(p), str(out), "-"], capture_output=True,
                                 text=True, check=True).stdout for p in range(1, pages + 1)]
    beta_page = next(t for t in page_texts if "Beta, Bob" in t)
    assert beta_page.lstrip().startswith("DECISION SUPPORT")  # the second report starts on a new page
    dialog.step(1)
    assert dialog.current == 0 and dialog.table.item(0, 0).text().startswith("▶")
    dialog.step(1)
    assert dialog.current == 1
    dialog.step(1)
    assert dialog.current == 1  # the end of the list
    dialog.close()
