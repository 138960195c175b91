"""Exam mode in the workstation: two cases read one after another with "Next case"; no score,
reference, learning point or pathway appears before the set ends; then the summary (per case,
per skill, total, each case's feedback) and the history rows carry the exam id. Time-out submits
what was read; an interrupted exam resumes at the same case with its draft."""

from __future__ import annotations

import shutil
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from test_teaching_attempt import _all_texts, win  # noqa: F401 - the window with its history in tmp_path
from viewer_study import study_loaded

pytestmark = pytest.mark.gui

SECRET = "REFERENCE-ONLY impression"
POINT = "Exam learning point: count from the sacrum."


def _case(tmp_path, study, case_id: str):
    from app.findings import model as fm
    from app.findings.io import save_findings
    from app.teaching.case import CaseMetadata, open_case, write_case_metadata

    folder = tmp_path / case_id
    shutil.copytree(study, folder / "images")
    ref = fm.StudyFindings(impression=f"{SECRET} {case_id}", pars=(
        fm.ParsFinding(fm.Level.L5, fm.Side.LEFT, fm.ParsStatus.COMPLETE_FRACTURE),))
    save_findings(ref, folder / "reference_read.json")
    write_case_metadata(folder, CaseMetadata(case_id, f"Exam case {case_id}", f"History of {case_id}.",
                                             images="images", learning_points=(POINT,)))
    return open_case(folder)


@pytest.fixture
def two_cases(tmp_path, synthetic_study):
    return [_case(tmp_path, synthetic_study, "ex1"), _case(tmp_path, synthetic_study, "ex2")]


def _wait_for_case(qtbot, ctl, case_id: str):
    qtbot.waitUntil(lambda: ctl.case.case_id == case_id and ctl._session is not None
                    and ctl._session.study_uid is not None, timeout=30_000)
    qtbot.waitUntil(ctl.pathway_hidden, timeout=5_000)


def _nothing_revealed(window) -> bool:
    ctl = window.teaching
    texts = _all_texts(window)
    return (SECRET not in texts and POINT not in texts and "Score" not in texts and ctl.feedback is None
            and ctl.exam.summary is None and ctl.overlay.items == [] and ctl.pathway_hidden())


def test_two_case_exam_reveals_nothing_until_the_set_is_finished(qtbot, win, two_cases):
    from app.teaching.exam import exam_of_cases

    ctl = win.teaching
    exam = exam_of_cases("Eve", ["ex1", "ex2"], 600, time.time())
    ctl.exam.start(exam, two_cases)
    qtbot.waitUntil(lambda: study_loaded(win), timeout=30_000)
    _wait_for_case(qtbot, ctl, "ex1")
    panel = ctl.panel
    assert "case 1 of 2" in panel.exam_status.text() and "time left <b>" in panel.exam_status.text()
    assert panel.next_button.isVisible() and panel.next_button.text() == "Next case"
    assert not panel.submit_button.isVisible()
    ctl._session.edit_pars("L5", "left", status="complete_fracture")  # right
    assert _nothing_revealed(win)

    QTest.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert _nothing_revealed(win)
    _wait_for_case(qtbot, ctl, "ex2")
    assert ctl._session.findings.pars == ()  # the second case starts empty
    assert "case 2 of 2" in panel.exam_status.text() and panel.next_button.text() == "Finish exam"
    assert "History of ex2." in panel.history.text()
    ctl._session.edit_pars("L4", "left", status="complete_fracture")  # wrong level
    QTest.qWait(600)  # a few ticks of the countdown
    assert _nothing_revealed(win)
    first = [a for a in ctl.history.attempts("Eve") if a.case_id == "ex1"]
    assert first[0].state == "submitted" and first[0].exam_set == exam.exam_id  # stored, not shown

    QTest.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    summary = ctl.exam.summary
    assert summary is not None and summary.isVisible()
    rows = summary.row_texts()
    assert [r[0] for r in rows] == ["Exam case ex1", "Exam case ex2"]
    assert rows[0][1] == "100 %" and rows[1][1] not in ("100 %", "not submitted")
    second_pct = ctl.exam.report.scores["ex2"]
    assert second_pct < 100 and ctl.exam.report.mean_pct == round((100 + second_pct) / 2, 1)
    assert f"Total: {ctl.exam.report.mean_pct:g} %" in summary.total_label.text()
    assert "levels" in summary.skills_label.text()
    feedback = summary.open_feedback(1)
    assert any(r[4] == "wrong level" for r in feedback.row_texts())
    assert [feedback.points.item(i).text() for i in range(feedback.points.count())] == [POINT]
    # the review dock is built once loading is idle (later on a loaded machine): then the pathway shows
    qtbot.waitUntil(lambda: win.annotations.review_widget is not None, timeout=15_000)
    assert not ctl.pathway_hidden()
    attempts = ctl.history.attempts("Eve")
    assert [(a.case_id, a.state, a.exam_set) for a in attempts] == [
        ("ex1", "submitted", exam.exam_id), ("ex2", "submitted", exam.exam_id)]
    csv_rows = [line for line in ctl.history.export_csv("Eve").splitlines() if exam.exam_id in line]
    assert len(csv_rows) == 2
    feedback.close()
    summary.close()


def test_time_out_submits_what_was_read_and_ends_the_exam(qtbot, win, two_cases):
    from app.teaching.exam import exam_of_cases, unfinished_exam

    ctl = win.teaching
    now = [1_000_000.0]
    ctl.exam._clock = lambda: now[0]
    exam = exam_of_cases("Tom", ["ex1", "ex2"], 120, now[0])
    ctl.exam.start(exam, two_cases)
    qtbot.waitUntil(lambda: study_loaded(win), timeout=30_000)
    _wait_for_case(qtbot, ctl, "ex1")
    ctl._session.edit_pars("L5", "left", status="complete_fracture")
    now[0] += 60
    qtbot.waitUntil(lambda: "time left <b>1:00" in ctl.panel.exam_status.text(), timeout=5_000)
    assert _nothing_revealed(win)
    now[0] += 61  # the limit passes while case 1 is open
    qtbot.waitUntil(lambda: ctl.exam.summary is not None, timeout=5_000)
    assert ctl.exam.report.scores == {"ex1": 100.0, "ex2": None} and ctl.exam.report.mean_pct == 50.0
    assert ctl.exam.summary.row_texts()[1][1] == "not submitted"
    assert ctl.exam.summary.open_feedback(1) is None
    assert [(a.case_id, a.state, a.exam_set) for a in ctl.history.attempts("Tom")] == [
        ("ex1", "submitted", exam.exam_id)]
    assert unfinished_exam(ctl.history, "Tom") is None and not ctl.panel.next_button.isEnabled()
    assert "exam is over" in ctl.panel.hint.text() and "Exam finished" in ctl.panel.exam_status.text()
    ctl.exam.summary.close()


def test_an_interrupted_exam_resumes_at_the_same_case_with_its_draft(qtbot, win, two_cases):
    from app.findings import model as fm
    from app.findings.io import findings_to_dict
    from app.teaching.exam import exam_of_cases, record_exam, unfinished_exam
    from app.teaching.scoring import score_read

    h = win.teaching.history
    exam = exam_of_cases("Max", ["ex1", "ex2"], 600, time.time())
    record_exam(h, exam)  # as left behind by a crash during case 2
    read = two_cases[0].load_reference()
    aid = h.start_attempt("Max", "ex1", exam_set=exam.exam_id)
    h.submit(aid, findings_to_dict(read), score_read(read, read))
    aid2 = h.start_attempt("Max", "ex2", exam_set=exam.exam_id)
    draft = fm.StudyFindings(pars=(fm.ParsFinding(fm.Level.L3, fm.Side.RIGHT, fm.ParsStatus.INCOMPLETE_FRACTURE),))
    h.save_draft(aid2, findings_to_dict(draft))

    ctl = win.teaching
    again = unfinished_exam(h, "Max")
    ctl.exam.resume(again, two_cases)
    assert ctl.attempt_id == aid2 and "case 2 of 2" in ctl.panel.exam_status.text()
    _wait_for_case(qtbot, ctl, "ex2")
    assert ctl._session.findings.pars_at(fm.Level.L3, fm.Side.RIGHT).status is fm.ParsStatus.INCOMPLETE_FRACTURE
    assert _nothing_revealed(win)
    ctl.exam.finish()
    assert ctl.exam.report.scores["ex1"] == 100.0 and ctl.exam.report.scores["ex2"] < 100
    assert len(h.attempts("Max")) == 2 and h.open_attempts("Max") == []
    ctl.exam.summary.close()


def test_exam_setup_draws_or_takes_the_selected_cases_and_progress_lists_the_exam(qtbot, tmp_path, two_cases):
    from app.teaching.exam import record_exam
    from app.teaching.history import History
    from app.teaching.library import Library
    from app.ui.teaching.exam_setup import ExamSetupDialog
    from app.ui.teaching.progress_chart import ProgressDialog

    with History(tmp_path / "h.sqlite3") as h:
        dlg = ExamSetupDialog(Library(cases=list(two_cases)), h)
        qtbot.addWidget(dlg)
        assert not dlg.start_button.isEnabled()  # no trainee yet
        QTest.keyClicks(dlg.trainee_edit, "Ann")
        dlg.n_cases.setValue(1)
        dlg.seed.setValue(4)
        exam, _ = dlg.make_exam(5000.0)
        assert len(exam.case_ids) == 1 and dlg.make_exam(5000.0)[0] == exam  # a fixed seed draws the same
        dlg.random_draw.setChecked(False)
        dlg.table.clearSelection()
        assert not dlg.start_button.isEnabled()  # nothing selected
        dlg.table.selectAll()
        chosen, _ = dlg.make_exam(time.time())
        assert chosen.case_ids == ("ex1", "ex2") and dlg.start_button.isEnabled()
        record_exam(h, chosen)
        progress = ProgressDialog(h, "Ann")
        qtbot.addWidget(progress)
        assert f"{chosen.exam_id}: not finished" in progress.exams.text()
        h.finish_exam(chosen.exam_id)
        progress._show("Ann")
        assert f"{chosen.exam_id}: 0 % over 2 case(s)" in progress.exams.text()


def test_closing_the_study_mid_exam_keeps_the_exam_and_scores_the_case_from_its_draft(qtbot, win, two_cases):
    """File > Close study during an exam case: the case is put aside (draft kept), the exam panel
    stays with "Next case", and the set's end scores the case from its draft."""
    from app.teaching.exam import exam_of_cases

    ctl = win.teaching
    exam = exam_of_cases("Ann", ["ex1", "ex2"], 600, time.time())
    ctl.exam.start(exam, two_cases)
    qtbot.waitUntil(lambda: study_loaded(win), timeout=30_000)
    _wait_for_case(qtbot, ctl, "ex1")
    ctl._session.edit_pars("L5", "left", status="complete_fracture")
    assert win.close_study()
    assert not ctl.active and ctl.dock.isVisible() and ctl.panel.next_button.isEnabled()
    assert _nothing_revealed(win)

    QTest.mouseClick(ctl.panel.next_button, Qt.MouseButton.LeftButton)
    _wait_for_case(qtbot, ctl, "ex2")
    QTest.mouseClick(ctl.panel.next_button, Qt.MouseButton.LeftButton)  # "Finish exam", nothing read
    assert ctl.exam.report.scores["ex1"] == 100.0, "the put-aside case is scored from its draft"
    assert ctl.history.open_attempts("Ann") == []
    ctl.exam.summary.close()
