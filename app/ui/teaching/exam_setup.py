"""Exam setup: the case picker (same filters) plus the size of the set, the time limit, and the
choice between the cases selected in the list (read in list order) and a random draw from the
filtered list with a fixed seed (not-yet-attempted cases first)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QFormLayout, QSpinBox, QTableWidget, QWidget

from app.teaching.case import TeachingCase
from app.teaching.exam import ExamSet, exam_of_cases, plan_exam
from app.teaching.history import History
from app.teaching.library import Library
from app.ui.teaching.picker import CasePickerDialog


class ExamSetupDialog(CasePickerDialog):
    def __init__(self, library: Library, history: History, trainee: str = "", parent: QWidget | None = None):
        self._history = history
        super().__init__(library, history.attempted_case_ids(trainee), trainee, parent)
        self.setWindowTitle("Exam")
        self.setObjectName("ExamSetup")
        self.start_button.setText("Start exam")
        self.table.setSelectionMode(QTableWidget.SelectionMode.ExtendedSelection)
        self.random_draw = QCheckBox("random draw from the filtered list (otherwise: the selected cases)")
        self.random_draw.setChecked(True)
        self.n_cases = QSpinBox()
        self.n_cases.setRange(1, max(1, len(library.cases)))
        self.n_cases.setValue(min(5, max(1, len(library.cases))))
        self.seed = QSpinBox()
        self.seed.setRange(0, 999_999)
        self.minutes = QSpinBox()
        self.minutes.setRange(1, 600)
        self.minutes.setValue(30)
        self.minutes.setSuffix(" min")
        form = QFormLayout()
        form.addRow("Cases", self.random_draw)
        form.addRow("Number of cases (random draw)", self.n_cases)
        form.addRow("Seed (random draw)", self.seed)
        form.addRow("Time limit for the set", self.minutes)
        self.layout().insertLayout(self.layout().count() - 1, form)
        self.random_draw.toggled.connect(self._update_start)
        self.trainee_edit.textChanged.connect(self._trainee_changed)

    def _trainee_changed(self, text: str) -> None:
        self.attempted = self._history.attempted_case_ids(text.strip())
        self.refresh()

    def selected_cases(self) -> list[TeachingCase]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.shown[r] for r in rows if r < len(self.shown)]

    def _update_start(self, *_args) -> None:
        if not hasattr(self, "random_draw"):  # called by the picker's constructor
            return super()._update_start()
        cases_ok = bool(self.shown) if self.random_draw.isChecked() else bool(self.selected_cases())
        self.start_button.setEnabled(cases_ok and bool(self.trainee()))

    def make_exam(self, started_unix: float) -> tuple[ExamSet, list[TeachingCase]]:
        """The exam set and its cases; ValueError (with the reason) when it cannot be made."""
        limit_s = 60.0 * self.minutes.value()
        if self.random_draw.isChecked():
            pool = Library(cases=list(self.shown))
            exam = plan_exam(pool, self.trainee(), self.n_cases.value(), limit_s, started_unix, self._history,
                             seed=self.seed.value())
            return exam, list(self.shown)
        cases = self.selected_cases()
        return exam_of_cases(self.trainee(), [c.case_id for c in cases], limit_s, started_unix), cases
