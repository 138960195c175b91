"""Exam summary: the score of every case (a case not submitted in time counts 0 %), the accuracy
per skill per case and over the set, the total and the time; each case's full feedback opens
from its row (double-click or "Show feedback")."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.teaching.case import TeachingCase
from app.teaching.exam import ExamReport, ExamSet, exam_skill_pct
from app.teaching.scoring import SKILLS, ScoreResult
from app.ui.teaching.feedback import FeedbackDialog

NOT_SUBMITTED = "not submitted"
NO_ITEM = "n/a"  # the case has no item of that skill


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v:g} %"


def clock_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = max(0, round(seconds))
    return f"{s // 60}:{s % 60:02d}"


class ExamSummaryDialog(QDialog):
    def __init__(self, exam: ExamSet, report: ExamReport, results: dict[str, ScoreResult],
                 cases: dict[str, TeachingCase], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("ExamSummary")
        self.setWindowTitle(f"Exam summary: {exam.trainee}")
        self.exam, self.report, self.results, self.cases = exam, report, results, cases
        finished = [a.finished_unix for a in report.attempts.values() if a.finished_unix is not None]
        used_s = min(exam.time_limit_s, max(finished) - exam.started_unix) if finished else None
        n_done = sum(v is not None for v in report.scores.values())
        self.total_label = QLabel(
            f"<b>Total: {report.mean_pct:g} %</b> ({n_done} of {len(exam.case_ids)} case(s) submitted; a case "
            f"not submitted counts 0 %) - time {clock_text(used_s)} of {clock_text(exam.time_limit_s)}")
        self.total_label.setObjectName("exam_total")
        skills = exam_skill_pct(results.values())
        self.skills_label = QLabel("Per skill over the set: " + ", ".join(
            f"{k} {v:g} %" for k, v in skills.items() if v is not None))
        self.skills_label.setWordWrap(True)
        headers = ["Case", "Score", *SKILLS, "Time"]
        self.table = QTableWidget(len(exam.case_ids), len(headers))
        self.table.setObjectName("exam_cases")
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        for r, cid in enumerate(exam.case_ids):
            case = cases.get(cid)
            result = results.get(cid)
            score = report.scores.get(cid)
            attempt = report.attempts.get(cid)
            per_skill = result.skill_pct() if result is not None else {}
            values = [case.meta.title if case else cid, NOT_SUBMITTED if score is None else _pct(score),
                      *[NO_ITEM if score is not None and per_skill.get(s) is None else _pct(per_skill.get(s))
                        for s in SKILLS],
                      clock_text(attempt.duration_s if attempt is not None else None)]
            for c, text in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellDoubleClicked.connect(lambda row, _col: self.open_feedback(row))
        self.feedback_button = QPushButton("Show feedback for the selected case")
        self.feedback_button.clicked.connect(self._open_selected)
        self.feedback: FeedbackDialog | None = None
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        for w in (self.total_label, self.skills_label, self.table, self.feedback_button, buttons):
            lay.addWidget(w)
        self.resize(900, 420)

    def _open_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.open_feedback(rows[0].row())

    def open_feedback(self, row: int) -> FeedbackDialog | None:
        """The case's full feedback (discrepancy table, learning points); None if not submitted."""
        cid = self.exam.case_ids[row]
        result, case = self.results.get(cid), self.cases.get(cid)
        if result is None or case is None:
            return None
        self.feedback = FeedbackDialog(result, case.meta, self)
        self.feedback.show()
        return self.feedback

    def row_texts(self) -> list[list[str]]:
        return [[self.table.item(r, c).text() for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]
