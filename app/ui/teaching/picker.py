"""Case picker: filter the library by level, difficulty, tag and "not yet attempted"; shows the
title, difficulty, tags and clinical history (never the reference read or learning points)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.findings.model import Level
from app.teaching.case import DIFFICULTIES, TeachingCase
from app.teaching.library import Library

ANY = "any"


class CasePickerDialog(QDialog):
    def __init__(self, library: Library, attempted: set[str], trainee: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Teaching case")
        self.setObjectName("CasePicker")
        self.library, self.attempted = library, attempted
        self.trainee_edit = QLineEdit(trainee)
        self.trainee_edit.setPlaceholderText("your name (trainee profile)")
        self.level_box = QComboBox()
        self.level_box.addItems([ANY] + [lv.value for lv in Level])
        self.difficulty_box = QComboBox()
        self.difficulty_box.addItems([ANY, *DIFFICULTIES])
        self.tag_edit = QLineEdit()
        self.tag_edit.setPlaceholderText("tag, e.g. slip")
        self.new_only = QCheckBox("not yet attempted")
        filters = QHBoxLayout()
        for label, w in (("Level", self.level_box), ("Difficulty", self.difficulty_box), ("Tag", self.tag_edit)):
            filters.addWidget(QLabel(label))
            filters.addWidget(w)
        filters.addWidget(self.new_only)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Case", "Difficulty", "Tags", "Attempted"])
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.history = QLabel()
        self.history.setWordWrap(True)
        self.history.setObjectName("history")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.start_button = self.buttons.addButton("Start attempt", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Trainee", self.trainee_edit)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(filters)
        lay.addWidget(self.table, 1)
        lay.addWidget(QLabel("Clinical history:"))
        lay.addWidget(self.history)
        if library.problems:
            problems = QLabel("Not loaded: " + "; ".join(str(p) for p in library.problems[:3]))
            problems.setWordWrap(True)
            lay.addWidget(problems)
        lay.addWidget(self.buttons)
        for sig in (self.level_box.currentTextChanged, self.difficulty_box.currentTextChanged,
                    self.tag_edit.textChanged, self.new_only.toggled):
            sig.connect(self.refresh)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.trainee_edit.textChanged.connect(self._update_start)
        self.shown: list[TeachingCase] = []
        self.resize(760, 520)
        self.refresh()

    def refresh(self, *_args) -> None:
        level = None if self.level_box.currentText() == ANY else Level(self.level_box.currentText())
        difficulty = None if self.difficulty_box.currentText() == ANY else self.difficulty_box.currentText()
        tag = self.tag_edit.text().strip() or None
        self.shown = self.library.filter(level, difficulty, tag, self.attempted if self.new_only.isChecked() else None)
        self.table.setRowCount(len(self.shown))
        for r, c in enumerate(self.shown):
            for col, text in enumerate((c.meta.title, c.meta.difficulty, ", ".join(c.meta.tags),
                                        "yes" if c.case_id in self.attempted else "")):
                self.table.setItem(r, col, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        if self.shown:
            self.table.selectRow(0)
        self._on_selection()

    def selected_case(self) -> TeachingCase | None:
        rows = self.table.selectionModel().selectedRows()
        return self.shown[rows[0].row()] if rows and rows[0].row() < len(self.shown) else None

    def trainee(self) -> str:
        return self.trainee_edit.text().strip()

    def _on_selection(self) -> None:
        c = self.selected_case()
        self.history.setText(c.meta.history if c else "")
        self._update_start()

    def _update_start(self, *_args) -> None:
        self.start_button.setEnabled(self.selected_case() is not None and bool(self.trainee()))
        self.start_button.setToolTip("" if self.trainee() else "enter your name first")
        self.table.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
