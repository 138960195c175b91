"""Teaching > "Make teaching case from this study...": the metadata form; the work (anonymised
copy with dicognito, the current read as reference, metadata) is app.teaching.authoring."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from app.teaching.case import DIFFICULTIES, CaseMetadata


class MakeCaseDialog(QDialog):
    def __init__(self, default_dir: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Make teaching case from this study")
        self.title = QLineEdit()
        self.title.setPlaceholderText("shown in the picker; must not give the answer away")
        self.history = QPlainTextEdit()
        self.history.setPlaceholderText("clinical history shown to the trainee")
        self.difficulty = QComboBox()
        self.difficulty.addItems(list(DIFFICULTIES))
        self.difficulty.setCurrentText("intermediate")
        self.tags = QLineEdit()
        self.tags.setPlaceholderText("comma separated, e.g. L5, bilateral, edema")
        self.points = QPlainTextEdit()
        self.points.setPlaceholderText("learning points, one per line (shown after the attempt)")
        self.out = QLineEdit(str(default_dir))
        browse = QPushButton("...")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.out, 1)
        row.addWidget(browse)
        form = QFormLayout(self)
        form.addRow("Title", self.title)
        form.addRow("Clinical history", self.history)
        form.addRow("Difficulty", self.difficulty)
        form.addRow("Tags", self.tags)
        form.addRow("Learning points", self.points)
        form.addRow("Cases folder", row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.resize(640, 520)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Teaching cases folder", self.out.text())
        if folder:
            self.out.setText(folder)

    def metadata(self) -> CaseMetadata:
        """Raises ValueError with the problem (empty title, ...)."""
        title = self.title.text().strip()
        case_id = re.sub(r"[^A-Za-z0-9_-]+", "_", title.lower()).strip("_") or "case"
        return CaseMetadata(case_id=case_id, title=title, history=self.history.toPlainText().strip(),
                            difficulty=self.difficulty.currentText(),
                            tags=tuple(t.strip() for t in self.tags.text().split(",") if t.strip()),
                            learning_points=tuple(p.strip() for p in self.points.toPlainText().splitlines() if p.strip()),
                            source="authored")

    def case_folder(self, meta: CaseMetadata) -> Path:
        """A new folder named after the case id under the chosen folder (suffixed if taken)."""
        root = Path(self.out.text())
        folder, n = root / meta.case_id, 2
        while folder.exists():
            folder, n = root / f"{meta.case_id}_{n}", n + 1
        return folder
