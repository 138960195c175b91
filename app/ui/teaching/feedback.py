"""Feedback after "Submit read": the score, the discrepancy table (every item with the reference
and your value, what it cost and why), oedema sensitivity/specificity, both pathway tiers and the
learning points."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.teaching.case import CaseMetadata
from app.teaching.scoring import ScoreResult

_OK = {"correct", "true_negative", "follows", "not_staged"}
COLUMNS = ("Skill", "Item", "Reference", "Your read", "Result", "Points", "Explanation")


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.0f} %"


class FeedbackDialog(QDialog):
    def __init__(self, result: ScoreResult, meta: CaseMetadata, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("TeachingFeedback")
        self.setWindowTitle(f"Feedback: {meta.title}")
        self.result = result
        self.score_label = QLabel(f"<b>Score: {result.score_pct:g} %</b>")
        skills = ", ".join(f"{k} {v:g} %" for k, v in result.skill_pct().items() if v is not None)
        tiers = ""
        if result.reference_tier is not None:
            tiers = (f"Pathway tier - reference read: <b>{result.reference_tier}</b>; your read: "
                     f"<b>{result.trainee_tier}</b>")
        self.summary = QLabel(f"Skills: {skills}<br>Oedema detection: sensitivity {_pct(result.edema_sensitivity)}, "
                              f"specificity {_pct(result.edema_specificity)}<br>{tiers}")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(len(result.items), len(COLUMNS))
        self.table.setObjectName("discrepancies")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, item in enumerate(result.items):
            values = (item.skill, item.key, item.reference, item.trainee, item.outcome.replace("_", " "),
                      f"-{item.penalty:g}" if item.penalty else "", item.explanation)
            for c, text in enumerate(values):
                cell = QTableWidgetItem(text)
                if item.outcome not in _OK:
                    cell.setBackground(QColor("#5a2a2a") if item.penalty >= 10 else QColor("#5a4a2a"))
                    cell.setForeground(QColor("#ffffff"))
                self.table.setItem(r, c, cell)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.points = QListWidget()
        self.points.setObjectName("learning_points")
        self.points.addItems(list(meta.learning_points) or ["(no learning points for this case)"])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.score_label)
        lay.addWidget(self.summary)
        lay.addWidget(self.table, 3)
        lay.addWidget(QLabel("Learning points:"))
        lay.addWidget(self.points, 1)
        lay.addWidget(buttons)
        self.resize(1100, 620)

    def row_texts(self) -> list[list[str]]:
        return [[self.table.item(r, c).text() for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]
