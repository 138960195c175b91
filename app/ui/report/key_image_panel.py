"""The review dock's "Key images" tab: the session's key images in marking order, with
Remove (undoable, like every findings edit). Mark new ones with Review > Key image (K)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from app.ui.report.key_images import key_image_where


class KeyImagesPanel(QWidget):
    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.hint = QLabel("Mark the view of a cell with Review > Key image (K).")
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        self.list = QListWidget()
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.remove_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.hint)
        lay.addWidget(self.list, 1)
        lay.addLayout(row)
        session.findings_changed.connect(self.refresh)
        self.refresh()

    def refresh(self, *_: Any) -> None:
        self.list.clear()
        for i, k in enumerate(self.session.findings.key_images, 1):
            item = QListWidgetItem(f"{i}. {k.caption or '(no caption)'} — {key_image_where(k)}")
            item.setData(256, k.key_image_id)
            self.list.addItem(item)
        self.remove_button.setEnabled(self.list.count() > 0)

    def remove_selected(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        self.session.set_findings(self.session.findings.without_key_image(item.data(256)))

    def cleanup(self) -> None:
        self.session.findings_changed.disconnect(self.refresh)
