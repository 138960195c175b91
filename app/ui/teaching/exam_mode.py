"""Exam mode in the workstation: the cases of an exam set are read one after another in the
attempt dock ("Case k of N", a countdown, "Next case" / "Finish exam"); nothing of the reference,
the pathway or the score is shown until the set is finished or the time is up (which submits
what was read); then one summary with each case's feedback. The set is kept in the history, so
an exam interrupted by a crash resumes at the same case with its draft."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox

from app.teaching.case import TeachingCase
from app.teaching.exam import (
    ExamReport,
    ExamSet,
    exam_report,
    exam_results,
    next_case_index,
    record_exam,
    submit_open_drafts,
    unfinished_exam,
)
from app.ui.teaching.exam_summary import ExamSummaryDialog, clock_text


class ExamController(QObject):
    sig_finished = Signal(object)  # ExamReport

    def __init__(self, teaching: Any, clock: Callable[[], float] = time.time):
        super().__init__(teaching)
        self.teaching = teaching
        self._clock = clock
        self.exam: ExamSet | None = None
        self.cases: dict[str, TeachingCase] = {}
        self.index = 0
        self.report: ExamReport | None = None
        self.summary = None
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._on_tick)
        teaching.panel.next_button.clicked.connect(self.next_case)

    @property
    def running(self) -> bool:
        return self.exam is not None and self.report is None

    # ---- menu --------------------------------------------------------------------------------
    def pick_exam(self) -> None:
        from app.teaching.library import load_library
        from app.ui.teaching.exam_setup import ExamSetupDialog

        history = self.teaching.history
        library = load_library()
        dlg = ExamSetupDialog(library, history, self.teaching.trainee, self.teaching.window)
        if not dlg.exec():
            return
        trainee = dlg.trainee()
        old = unfinished_exam(history, trainee)
        if old is not None:
            k = next_case_index(history, old)
            answer = QMessageBox.question(
                self.teaching.window, "Exam",
                f"{trainee} has an unfinished exam (case {min(k + 1, len(old.case_ids))} of {len(old.case_ids)}, "
                f"{clock_text(old.time_left_s(self._clock()))} left). Resume it? (No closes it as it stands.)")
            if answer == QMessageBox.StandardButton.Yes:
                self.resume(old, library.cases)
                return
            self._close_set(old, {c.case_id: c for c in library.cases})
        try:
            exam, cases = dlg.make_exam(self._clock())
        except ValueError as exc:
            QMessageBox.warning(self.teaching.window, "Exam", str(exc))
            return
        self.start(exam, cases)

    # ---- the set -----------------------------------------------------------------------------
    def start(self, exam: ExamSet, cases: Sequence[TeachingCase]) -> None:
        """Record ``exam`` in the history and open its first case."""
        record_exam(self.teaching.history, exam)
        self._run(exam, cases, 0)

    def resume(self, exam: ExamSet, cases: Sequence[TeachingCase]) -> None:
        """Carry on with an interrupted exam at its first case not submitted (with its draft)."""
        self._run(exam, cases, next_case_index(self.teaching.history, exam))

    def _run(self, exam: ExamSet, cases: Sequence[TeachingCase], index: int) -> None:
        self.exam, self.report, self.summary = exam, None, None
        self.cases = {c.case_id: c for c in cases if c.case_id in exam.case_ids}
        self._timer.start()
        self._open(index)

    def _open(self, index: int) -> None:
        exam = self.exam
        while index < len(exam.case_ids) and exam.case_ids[index] not in self.cases:
            index += 1  # a case no longer in the library counts as not submitted
        if index >= len(exam.case_ids) or exam.time_left_s(self._clock()) == 0.0:
            self.finish()
            return
        self.index = index
        self.teaching.start_case(self.cases[exam.case_ids[index]], exam.trainee, exam_set=exam.exam_id)
        last = index == len(exam.case_ids) - 1
        self.teaching.panel.next_button.setText("Finish exam" if last else "Next case")
        self.teaching.panel.next_button.setEnabled(True)
        self._update_status()

    def next_case(self) -> None:
        """Submit the case being read (score kept, not shown) and open the next one."""
        if not self.running:
            return
        self.teaching.record()
        self._open(self.index + 1)

    def _on_tick(self) -> None:
        if not self.running:
            return
        self.teaching._hide_pathway(True)  # a newly loaded study's review dock shows it by default
        self._update_status()
        if self.exam.time_left_s(self._clock()) == 0.0:
            self.finish()  # time is up: what was read is submitted

    def _update_status(self) -> None:
        left = self.exam.time_left_s(self._clock())
        self.teaching.panel.exam_status.setText(
            f"<b>Exam: case {self.index + 1} of {len(self.exam.case_ids)}</b> - time left "
            f"<b>{clock_text(left)}</b>")

    def _close_set(self, exam: ExamSet, cases: dict[str, TeachingCase]) -> None:
        submit_open_drafts(self.teaching.history, exam, cases)
        self.teaching.history.finish_exam(exam.exam_id)

    def finish(self) -> ExamReport | None:
        """End the set: submit what was read, then show the summary."""
        if not self.running:
            return self.report
        if self.teaching.active and self.teaching.exam_set == self.exam.exam_id:
            self.teaching.record()
        self._close_set(self.exam, self.cases)
        self._timer.stop()
        history = self.teaching.history
        self.report = exam_report(history, self.exam, self._clock())
        panel = self.teaching.panel
        panel.next_button.setEnabled(False)
        panel.hint.setText("The exam is over: each case's feedback opens from the summary (double-click a row).")
        panel.exam_status.setText(f"<b>Exam finished</b>: {self.report.mean_pct:g} % over "
                                  f"{len(self.exam.case_ids)} case(s)")
        self.teaching.exam_set = None
        self.teaching._hide_pathway(False)
        self.summary = ExamSummaryDialog(self.exam, self.report, exam_results(history, self.report, self.cases),
                                         self.cases, self.teaching.window)
        self.summary.show()
        self.sig_finished.emit(self.report)
        return self.report


def install_exam(teaching: Any, menu: Any) -> ExamController:
    """Adds "Start exam..." to the Teaching ``menu``; the controller is ``teaching.exam``."""
    ctl = ExamController(teaching)
    action = QAction("Start exam...", teaching.window)
    action.triggered.connect(ctl.pick_exam)
    menu.addAction(action)
    teaching.exam = ctl
    return ctl
