"""One item delegate for the findings tables: the editor follows the model's KIND_ROLE.

choice -> QComboBox over CHOICES_ROLE (label, value); float -> QLineEdit (empty = unknown);
edema -> ? / yes / no with three site check boxes (pars, pedicle, body). Combo edits commit as soon as an entry is
picked, so one click changes the finding.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QLocale, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLineEdit, QStyledItemDelegate, QWidget

from app.findings import model as findings_model
from app.ui.findings.table_model import CHOICES_ROLE, KIND_ROLE


class _EdemaEditor(QWidget):
    """? / yes / no plus the sites; ticking a site means yes."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAutoFillBackground(True)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(2, 0, 2, 0)
        lay.setSpacing(4)
        self.combo = QComboBox(self)
        for label, value in (("?", ""), ("yes", "yes"), ("no", "no")):
            self.combo.addItem(label, value)
        lay.addWidget(self.combo)
        self.boxes = {}
        for site in findings_model.EdemaSite:
            cb = QCheckBox(site.value, self)
            cb.toggled.connect(self._site_toggled)
            lay.addWidget(cb)
            self.boxes[site.value] = cb
        self.combo.currentIndexChanged.connect(self._present_changed)

    def _site_toggled(self, on: bool) -> None:
        if on and self.combo.currentData() != "yes":
            self.combo.setCurrentIndex(self.combo.findData("yes"))

    def _present_changed(self, _i: int) -> None:
        if self.combo.currentData() != "yes":
            for cb in self.boxes.values():
                cb.blockSignals(True)
                cb.setChecked(False)
                cb.blockSignals(False)

    def value(self) -> str:
        present = self.combo.currentData() or ""
        sites = [k for k, cb in self.boxes.items() if cb.isChecked()]
        return f"yes:{','.join(sites)}" if present == "yes" and sites else present

    def set_value(self, text: str) -> None:
        head, _, tail = (text or "").partition(":")
        self.combo.setCurrentIndex(max(self.combo.findData(head), 0))
        chosen = {x.strip() for x in tail.split(",") if x.strip()}
        for k, cb in self.boxes.items():
            cb.blockSignals(True)
            cb.setChecked(k in chosen)
            cb.blockSignals(False)


class FindingsDelegate(QStyledItemDelegate):
    def createEditor(self, parent: QWidget, option: Any, index: QModelIndex | QPersistentModelIndex) -> QWidget:
        kind = index.data(KIND_ROLE)
        if kind == "choice":
            combo = QComboBox(parent)
            for label, value in index.data(CHOICES_ROLE) or ():
                combo.addItem(label, value)
            combo.activated.connect(lambda _i, c=combo: self._commit(c))
            return combo
        if kind == "float":
            edit = QLineEdit(parent)
            v = QDoubleValidator(edit)
            v.setLocale(QLocale.c())
            v.setNotation(QDoubleValidator.Notation.StandardNotation)
            edit.setValidator(v)
            edit.setPlaceholderText("empty = unknown")
            return edit
        if kind == "edema":
            return _EdemaEditor(parent)
        return super().createEditor(parent, option, index)

    def _commit(self, editor: QWidget) -> None:
        self.commitData.emit(editor)
        self.closeEditor.emit(editor)

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        value = index.data(Qt.ItemDataRole.EditRole)
        if isinstance(editor, QComboBox):
            i = editor.findData("" if value is None else str(value))
            editor.setCurrentIndex(max(i, 0))
        elif isinstance(editor, QLineEdit):
            editor.setText("" if value in (None, "") else f"{float(value):g}")
        elif isinstance(editor, _EdemaEditor):
            editor.set_value(value or "")
        else:
            super().setEditorData(editor, index)

    def setModelData(self, editor: QWidget, model: Any, index: QModelIndex | QPersistentModelIndex) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)
        elif isinstance(editor, QLineEdit):
            model.setData(index, editor.text(), Qt.ItemDataRole.EditRole)
        elif isinstance(editor, _EdemaEditor):
            model.setData(index, editor.value(), Qt.ItemDataRole.EditRole)
        else:
            super().setModelData(editor, model, index)
