"""A read-only table dialog with a Close button (Help > Keyboard shortcuts, Help > About)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


class TableDialog(QDialog):
    """``self.table`` holds ``rows`` under ``headers``; the last column stretches; an optional
    ``above`` widget sits over the table."""

    def __init__(self, title: str, headers: Sequence[str], rows: Sequence[Sequence[str]],
                 above: QWidget | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.table = QTableWidget(len(rows), len(headers), self)
        self.table.setHorizontalHeaderLabels(list(headers))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.horizontalHeader().setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        lay = QVBoxLayout(self)
        if above is not None:
            lay.addWidget(above)
        lay.addWidget(self.table)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)

    @classmethod
    def show_for(cls, parent=None) -> None:
        cls(parent).exec()
