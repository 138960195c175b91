"""Teaching attempt in the workstation: open a teaching case, place a pars marker with mouse
events, Submit read; the reference read and the pathway stay hidden until then; the score, the
feedback table, the learning points and the history record follow."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPlainTextEdit, QTableView, QTableWidget, QWidget
from viewer_study import study_loaded

pytestmark = pytest.mark.gui

SECRET = "REFERENCE-ONLY impression: left L5 complete fracture"
POINT = "Count from the sacrum."


def _click(view, col, row):
    p = view.viewport_point_of_pixel(col, row)
    for kind, et in (("move", QEvent.Type.MouseMove), ("press", QEvent.Type.MouseButtonPress),
                     ("release", QEvent.Type.MouseButtonRelease)):
        button = Qt.MouseButton.NoButton if kind == "move" else Qt.MouseButton.LeftButton
        held = Qt.MouseButton.LeftButton if kind == "press" else Qt.MouseButton.NoButton
        ev = QMouseEvent(et, QPointF(p), view.viewport().mapToGlobal(QPointF(p)), button, held,
                         Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(view.viewport(), ev)


@pytest.fixture
def teaching_case(tmp_path, synthetic_study):
    from app.findings import model as fm
    from app.findings.io import save_findings
    from app.teaching.case import CaseMetadata, open_case, write_case_metadata

    folder = tmp_path / "case"
    shutil.copytree(synthetic_study, folder / "images")
    ref = fm.StudyFindings(impression=SECRET, pars=(
        fm.ParsFinding(fm.Level.L5, fm.Side.LEFT, fm.ParsStatus.COMPLETE_FRACTURE),))
    save_findings(ref, folder / "reference_read.json")
    write_case_metadata(folder, CaseMetadata("syn", "Runner with back pain", "20-year-old runner, low back pain.",
                                             images="images", learning_points=(POINT,)))
    return open_case(folder)


@pytest.fixture
def win(qtbot, tmp_path):
    """The workstation with the Teaching menu, its history in tmp_path (``win.teaching``)."""
    from app.teaching.history import History
    from app.ui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1500, 900)
    w.show()
    w.teaching._history = History(tmp_path / "history.sqlite3")
    yield w
    w.close()


def _all_texts(win) -> str:
    parts = []
    for w in win.findChildren(QWidget):
        if isinstance(w, (QLabel, QLineEdit)):
            parts.append(w.text())
        elif isinstance(w, QPlainTextEdit):
            parts.append(w.toPlainText())
        elif isinstance(w, (QTableView, QTableWidget)) and w.model() is not None:
            m = w.model()
            parts += [str(m.index(r, c).data()) for r in range(m.rowCount()) for c in range(m.columnCount())]
    return "\n".join(parts)


def test_attempt_hides_the_reference_until_submit_then_scores(qtbot, win, teaching_case):
    from app.findings.model import Level, ParsStatus, Side
    from app.teaching.scoring import score_read

    ctl = win.teaching
    ctl.start_case(teaching_case, "Ann")
    qtbot.waitUntil(lambda: study_loaded(win), timeout=30_000)
    qtbot.waitUntil(lambda: win.annotations.dock is not None and ctl._session is not None, timeout=15_000)
    qtbot.waitUntil(ctl.pathway_hidden, timeout=5_000)
    ws = win.annotations
    assert ctl.dock.isVisible() and "20-year-old runner" in ctl.panel.history.text()
    assert ws.session.findings.pars == ()  # an empty read to start from
    assert SECRET not in _all_texts(win) and POINT not in _all_texts(win)
    assert ctl.feedback is None and ctl.result is None

    views = {v.cell.role: v for v in win.grid.views() if v.cell is not None}
    sag = views["ct_sag_left_pars"]
    ws.tool_actions["pars"].trigger()
    rows, cols = sag.rendered_pixels().shape
    _click(sag, cols / 2, rows / 2)
    popup = ws.tool_driver.popup
    QTest.keyClick(popup, Qt.Key.Key_5)  # L5
    QTest.keyClick(popup, Qt.Key.Key_Down)  # keep left
    QTest.keyClick(popup, Qt.Key.Key_4)  # complete fracture
    QTest.keyClick(popup, Qt.Key.Key_Return)
    assert ws.session.findings.pars_at(Level.L5, Side.LEFT).status is ParsStatus.COMPLETE_FRACTURE
    QApplication.processEvents()
    (open_attempt,) = ctl.history.open_attempts("Ann")
    assert ctl.history.draft_of(open_attempt.id)["pars"][0]["status"] == "complete_fracture"  # draft kept
    assert SECRET not in _all_texts(win) and ctl.pathway_hidden()

    QTest.mouseClick(ctl.panel.submit_button, Qt.MouseButton.LeftButton)
    assert ctl.result is not None and ctl.feedback is not None and ctl.feedback.isVisible()
    expected = score_read(ws.session.findings, teaching_case.load_reference())
    assert ctl.result.score_pct == expected.score_pct == 100.0
    rows_text = ctl.feedback.row_texts()
    assert any(r[1] == "pars L5 left" and r[4] == "correct" for r in rows_text)
    assert [ctl.feedback.points.item(i).text() for i in range(ctl.feedback.points.count())] == [POINT]
    assert not ctl.pathway_hidden()
    (done,) = ctl.history.attempts("Ann")
    assert done.state == "submitted" and done.score_pct == 100.0
    ctl.feedback.close()


def test_wrong_level_read_is_scored_and_explained(qtbot, win, teaching_case):
    ctl = win.teaching
    ctl.start_case(teaching_case, "Bob")
    qtbot.waitUntil(lambda: study_loaded(win), timeout=30_000)
    qtbot.waitUntil(lambda: ctl._session is not None, timeout=15_000)
    ctl._session.edit_pars("L4", "left", status="complete_fracture")  # through the findings table
    result = ctl.submit()
    assert result.score_pct < 100
    assert any(r[4] == "wrong level" and "Wrong level" in r[6] for r in ctl.feedback.row_texts())
    ctl.feedback.close()


def test_case_picker_filters_and_needs_a_trainee(qtbot, tmp_path, teaching_case):
    from app.teaching.library import Library
    from app.ui.teaching.picker import CasePickerDialog

    dlg = CasePickerDialog(Library(cases=[teaching_case]), attempted=set())
    qtbot.addWidget(dlg)
    assert dlg.table.rowCount() == 1 and not dlg.start_button.isEnabled()
    QTest.keyClicks(dlg.trainee_edit, "Ann")
    assert dlg.start_button.isEnabled() and dlg.selected_case() is teaching_case
    assert "20-year-old runner" in dlg.history.text()
    dlg.level_box.setCurrentText("L4")
    assert dlg.table.rowCount() == 0 and not dlg.start_button.isEnabled()
    dlg.level_box.setCurrentText("L5")
    dlg.attempted = {"syn"}
    dlg.new_only.setChecked(True)
    assert dlg.table.rowCount() == 0


def test_progress_chart_draws_the_attempts(qtbot, tmp_path):
    import dataclasses

    from app.findings.io import findings_to_dict
    from app.samples.cases import case_by_number
    from app.samples.generate import reference_read
    from app.teaching.history import History
    from app.teaching.scoring import score_read
    from app.ui.teaching.progress_chart import ProgressChart

    ref = reference_read(case_by_number(3))
    with History(tmp_path / "h.sqlite3") as h:
        for read in (dataclasses.replace(ref, pars=()), ref):
            aid = h.start_attempt("Ann", "case03")
            h.submit(aid, findings_to_dict(read), score_read(read, ref, with_pathway=False))
        chart = ProgressChart()
        qtbot.addWidget(chart)
        chart.set_history(h, "Ann")
    assert [v for _, v in chart.series["score"]] == [score_read(dataclasses.replace(ref, pars=()), ref,
                                                                with_pathway=False).score_pct, 100.0]
    assert [v for _, v in chart.series["pars"]] == [0.0, 100.0]
    chart.resize(600, 320)
    img = chart.grab().toImage()
    assert img.width() == 600  # painted without error


def test_an_interrupted_attempt_resumes_with_its_draft(qtbot, win, teaching_case):
    from app.findings import model as fm
    from app.findings.io import findings_to_dict

    h = win.teaching.history
    aid = h.start_attempt("Cy", "syn")  # as left behind by a crash
    draft = fm.StudyFindings(pars=(fm.ParsFinding(fm.Level.L3, fm.Side.RIGHT, fm.ParsStatus.INCOMPLETE_FRACTURE),))
    h.save_draft(aid, findings_to_dict(draft))
    ctl = win.teaching
    ctl.start_case(teaching_case, "Cy")
    assert ctl.attempt_id == aid
    qtbot.waitUntil(lambda: ctl._session is not None, timeout=30_000)
    assert ctl._session.findings.pars_at(fm.Level.L3, fm.Side.RIGHT).status is fm.ParsStatus.INCOMPLETE_FRACTURE
    result = ctl.submit()
    assert result is not None and h.open_attempts("Cy") == [] and len(h.attempts("Cy")) == 1
    ctl.feedback.close()


def test_make_teaching_case_from_the_open_study(qtbot, tmp_path, win, synthetic_study):
    from app.findings.model import Level, ParsStatus, Side
    from app.teaching.case import open_case
    from app.ui.teaching.authoring_dialog import MakeCaseDialog

    win.open_paths([str(synthetic_study)])
    qtbot.waitUntil(lambda: study_loaded(win) and win.annotations.session is not None, timeout=30_000)
    win.annotations.session.edit_pars("L4", "right", status="chronic_nonunion")
    dlg = MakeCaseDialog(tmp_path / "cases")
    qtbot.addWidget(dlg)
    QTest.keyClicks(dlg.title, "Old defect, runner")
    dlg.history.setPlainText("40-year-old runner.")
    dlg.tags.setText("L4, chronic")
    meta = dlg.metadata()
    assert meta.case_id == "old_defect_runner" and meta.tags == ("L4", "chronic")
    folder = win.teaching.make_case(meta, dlg.case_folder(meta))
    case = open_case(folder)
    assert case.levels == (Level.L4,)
    assert case.load_reference().pars_at(Level.L4, Side.RIGHT).status is ParsStatus.CHRONIC_NONUNION
    blob = b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())
    assert b"PHANTOM^LUMBAR" not in blob and b"SYN001" not in blob  # the synthetic study's identifiers
    assert dlg.case_folder(meta) != folder  # a second case of the same title gets a new folder


def test_feedback_draws_the_reference_on_the_images_and_each_read_toggles(qtbot, tmp_path, win, synthetic_study):
    import pydicom

    from app.findings import model as fm
    from app.findings.io import save_findings
    from app.teaching.case import CaseMetadata, open_case, write_case_metadata
    from app.ui.teaching.overlay import REFERENCE_COLOUR

    folder = tmp_path / "case"
    shutil.copytree(synthetic_study, folder / "images")
    lt = next(pydicom.dcmread(p, stop_before_pixels=True) for p in sorted((folder / "images").rglob("*"))
              if p.is_file() and "LT OBL" in str(pydicom.dcmread(p, stop_before_pixels=True).get("SeriesDescription", "")))
    ref_marker = fm.AnnotationRef("r1", "pars-marker", str(lt.SeriesInstanceUID), str(lt.SOPInstanceUID),
                                  points_px=((20.0, 15.0),))
    save_findings(fm.StudyFindings(pars=(fm.ParsFinding(fm.Level.L5, fm.Side.LEFT, fm.ParsStatus.COMPLETE_FRACTURE,
                                                        provenance=(ref_marker,)),)), folder / "reference_read.json")
    write_case_metadata(folder, CaseMetadata("ov", "Overlay", "h", images="images"))
    ctl = win.teaching
    ctl.start_case(open_case(folder), "Di")
    qtbot.waitUntil(lambda: study_loaded(win) and ctl._session is not None, timeout=30_000)
    assert ctl.overlay.items == [] and not ctl.panel.show_reference.isVisible()  # nothing before submitting
    from app.annotations.model import ParsMarker

    win.annotations.store.add(ParsMarker(series_instance_uid=str(lt.SeriesInstanceUID),
                                         sop_instance_uid=str(lt.SOPInstanceUID), points_px=((30.0, 30.0),),
                                         level=fm.Level.L5, side=fm.Side.LEFT, status=fm.ParsStatus.COMPLETE_FRACTURE))
    assert ctl._session.findings.pars_at(fm.Level.L5, fm.Side.LEFT) is not None
    ctl.submit()
    ctl.feedback.close()
    assert ctl.result.score_pct == 100.0
    lt_view = next(v for v in win.grid.views() if getattr(v.display, "kind", "") == "radiograph"
                   and v.display.radiograph.sop_instance_uid == str(lt.SOPInstanceUID))
    items = [it for it in ctl.overlay.items if it.parentItem() is lt_view.annotation_layer]
    assert len(items) == 1 and items[0].colour() == REFERENCE_COLOUR and items[0].label_text().startswith("REF L5 L")
    lt_view.viewport().repaint()
    assert items[0].last_points == [(20.0, 15.0)]  # drawn at the reference's pixel
    other = [it for it in ctl.overlay.items if it.parentItem() is not lt_view.annotation_layer]
    for it in other:
        it.parentItem().scene().views()[0].viewport().repaint()
        assert not it.last_points  # not on images other than the one it was drawn on
    assert ctl.panel.show_reference.isVisible()
    ctl.panel.show_reference.setChecked(False)
    assert not items[0].isVisible()
    ctl.panel.show_reference.setChecked(True)
    assert items[0].isVisible()
    mine = win.annotations.items_for(lt_view)
    assert mine and all(it.isVisible() for it in mine)
    ctl.panel.show_mine.setChecked(False)
    assert not any(it.isVisible() for it in mine) and items[0].isVisible()


def test_attempt_never_touches_the_readers_autosaved_read_of_the_same_study(qtbot, win, teaching_case):
    """A radiologist's autosaved read of the study stays as it was through a trainee's attempt."""
    from app.findings import autosave as fa

    win.open_paths([str(teaching_case.images_dir)])  # the radiologist reads the study first
    qtbot.waitUntil(lambda: study_loaded(win), timeout=30_000)
    qtbot.waitUntil(lambda: win.annotations.session is not None, timeout=15_000)
    readers = win.annotations.session
    readers.edit_pars("L4", "right", status="incomplete_fracture")
    readers.autosave.flush()
    path = fa.autosave_path(readers.autosave.key)
    before = path.read_bytes()
    assert b"incomplete_fracture" in before

    ctl = win.teaching
    ctl.start_case(teaching_case, "Cy")
    qtbot.waitUntil(lambda: ctl._session is not None and ctl._session is not readers, timeout=30_000)
    assert ctl._session.findings.pars == ()  # the trainee starts from an empty read
    ctl._session.edit_pars("L5", "left", status="complete_fracture")
    ctl._session.autosave.flush()
    ctl.submit()
    ctl.feedback.close()
    assert path.read_bytes() == before
    assert win.annotations.autosave_data_dir is None  # the next study opened autosaves as usual


def test_closing_the_attempts_study_puts_the_attempt_aside_and_the_next_study_is_the_readers(
        qtbot, win, teaching_case, synthetic_study):
    """File > Close study in the middle of an attempt: the attempt stops (its draft is kept, and
    picking the case again carries on from it); a study opened next is a reader's study again:
    its autosaved read is shown as it is (no empty read put over it), the pathway is not hidden
    and it autosaves in the user's folder, not the teaching one."""
    from app.findings import model as fm
    from app.findings.io import findings_from_dict

    readers_study = synthetic_study
    win.open_paths([str(readers_study)])  # a radiologist's read of a study, autosaved
    qtbot.waitUntil(lambda: study_loaded(win) and win.annotations.session is not None, timeout=30_000)
    win.annotations.session.edit_pars("L3", "left", status="incomplete_fracture")
    win.annotations.session.autosave.flush()
    assert win.close_study()

    ctl = win.teaching
    ctl.start_case(teaching_case, "Cy")
    qtbot.waitUntil(lambda: ctl._session is not None, timeout=30_000)
    aid = ctl.attempt_id
    ctl._session.edit_pars("L5", "left", status="complete_fracture")
    assert win.close_study()
    assert not ctl.active and not ctl.dock.isVisible() and not ctl._tick.isActive()
    assert "put aside" in win.statusBar().currentMessage()
    assert win.annotations.autosave_data_dir is None
    open_ = ctl.history.open_attempts("Cy")
    assert [a.id for a in open_] == [aid], "the attempt stays open in the history, not scored"
    draft = findings_from_dict(ctl.history.draft_of(aid))
    assert draft.pars_at(fm.Level.L5, fm.Side.LEFT).status is fm.ParsStatus.COMPLETE_FRACTURE

    win.open_paths([str(readers_study)])
    qtbot.waitUntil(lambda: study_loaded(win) and win.annotations.session is not None, timeout=30_000)
    session = win.annotations.session
    qtbot.wait(1200)  # the attempt's 500 ms tick would have adopted (and emptied) this session
    assert session.findings.pars_at(fm.Level.L3, fm.Side.LEFT).status is fm.ParsStatus.INCOMPLETE_FRACTURE
    assert not ctl.pathway_hidden()
    assert win.annotations.session is session and session is not ctl._session

    ctl.start_case(teaching_case, "Cy")  # the case again: the same attempt, from its draft
    assert ctl.attempt_id == aid
    qtbot.waitUntil(lambda: ctl._session is not None, timeout=30_000)
    assert ctl._session.findings.pars_at(fm.Level.L5, fm.Side.LEFT).status is fm.ParsStatus.COMPLETE_FRACTURE


def test_a_case_not_opened_because_the_reader_kept_the_open_study_leaves_no_attempt_running(
        qtbot, win, teaching_case, synthetic_study, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    win.open_paths([str(synthetic_study)])
    qtbot.waitUntil(lambda: study_loaded(win) and win.annotations.session is not None, timeout=30_000)
    readers = win.annotations.session
    readers.autosave.close()  # its autosave stopped: opening the case asks first
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: QMessageBox.StandardButton.Cancel)
    ctl = win.teaching
    ctl.start_case(teaching_case, "Cy")
    assert not ctl.active and not ctl._tick.isActive() and not ctl.dock.isVisible()
    assert win.annotations.session is readers and win.annotations.autosave_data_dir is None
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: QMessageBox.StandardButton.Discard)  # the window closes
