"""Progress: score and per-skill accuracy over a trainee's attempts, painted with QPainter, and a
dialog with a trainee selector, the trainee's exam sets (total per set) and CSV export."""

from __future__ import annotations

import itertools
import time

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QComboBox, QDialog, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.teaching.exam import exam_history
from app.teaching.history import History
from app.teaching.scoring import SKILLS

COLOURS = {"score": "#ffffff", "levels": "#e6a23c", "pars": "#4a90d9", "edema": "#67c23a", "grading": "#b37feb",
           "slip": "#f56c6c", "pathway": "#20c5c5"}


class ProgressChart(QWidget):
    """Lines over attempt number (1..n): the score and each skill's accuracy, 0-100 %."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("ProgressChart")
        self.setMinimumSize(520, 300)
        self.series: dict[str, list[tuple[int, float]]] = {}

    def set_history(self, history: History, trainee: str) -> None:
        attempts = [a for a in history.attempts(trainee) if a.state == "submitted"]
        index = {a.finished_unix: i + 1 for i, a in enumerate(attempts)}
        self.series = {"score": [(i + 1, a.score_pct) for i, a in enumerate(attempts)]}
        for t, skill, acc in history.skill_progress(trainee):
            self.series.setdefault(skill, []).append((index.get(t, 0), acc))
        self.update()

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#1c1e1f"))
        plot = QRectF(48, 16, self.width() - 170, self.height() - 48)
        p.setPen(QPen(QColor("#555a5d"), 1))
        for pct in (0, 25, 50, 75, 100):
            y = plot.bottom() - plot.height() * pct / 100
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            p.drawText(QRectF(4, y - 8, 40, 16), Qt.AlignmentFlag.AlignRight, f"{pct}%")
        n = max((x for pts in self.series.values() for x, _ in pts), default=0)
        if n == 0:
            p.setPen(QColor("#cccccc"))
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, "no submitted attempts yet")
            return
        p.drawText(QRectF(plot.left(), plot.bottom() + 8, plot.width(), 20), Qt.AlignmentFlag.AlignCenter,
                   f"attempt 1 .. {n}")

        def pt(x: int, v: float) -> QPointF:
            fx = 0.5 if n == 1 else (x - 1) / (n - 1)
            return QPointF(plot.left() + fx * plot.width(), plot.bottom() - plot.height() * v / 100)

        for k, name in enumerate(("score", *SKILLS)):
            pts = self.series.get(name)
            if not pts:
                continue
            pen = QPen(QColor(COLOURS[name]), 3 if name == "score" else 1.5)
            p.setPen(pen)
            qpts = [pt(x, v) for x, v in pts]
            for a, b in itertools.pairwise(qpts):
                p.drawLine(a, b)
            for q in qpts:
                p.drawEllipse(q, 3, 3)
            p.drawText(QRectF(plot.right() + 12, plot.top() + 18 * k, 110, 16), Qt.AlignmentFlag.AlignLeft, name)
        p.end()


class ProgressDialog(QDialog):
    def __init__(self, history: History, trainee: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Teaching progress")
        self.history = history
        self.trainee_box = QComboBox()
        self.trainee_box.addItems(history.trainees())
        if trainee:
            self.trainee_box.setCurrentText(trainee)
        self.chart = ProgressChart()
        export = QPushButton("Export CSV...")
        export.clicked.connect(self.export_csv)
        top = QHBoxLayout()
        top.addWidget(QLabel("Trainee"))
        top.addWidget(self.trainee_box, 1)
        top.addWidget(export)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.chart, 1)
        self.exams = QLabel()
        self.exams.setObjectName("exams")
        self.exams.setWordWrap(True)
        lay.addWidget(self.exams)
        self.trainee_box.currentTextChanged.connect(self._show)
        self._show(self.trainee_box.currentText())
        self.resize(760, 420)

    def _show(self, trainee: str) -> None:
        self.chart.set_history(self.history, trainee)
        lines = [f"{exam.exam_id}: " + (f"{report.mean_pct:g} % over {len(exam.case_ids)} case(s)" if report.finished
                                         else "not finished")
                 for exam, report in exam_history(self.history, trainee, time.time())]
        self.exams.setText("Exams: " + ("; ".join(lines) if lines else "none"))

    def export_csv(self) -> None:
        from app.core.atomic import write_text_atomic

        path, _ = QFileDialog.getSaveFileName(self, "Export attempts as CSV", "teaching_history.csv", "CSV (*.csv)")
        if path:
            write_text_atomic(path, self.history.export_csv())
