"""Help > About: version, build date, ruleset version, intended use and the licences of the
bundled components (contents from app.about, Qt-free)."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import qVersion
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from app.about import INTENDED_USE, Component, build_info, bundled_components, ruleset_version


class AboutDialog(QDialog):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Isthmus")
        self.resize(640, 620)
        info = build_info()
        rows = [("Version", info["version"]), ("Build date", info["build_date"]), ("Build commit", info["commit"]),
                ("Pathway ruleset", ruleset_version())]
        facts = "".join(f"<tr><td><b>{escape(k)}</b>&nbsp;&nbsp;</td><td>{escape(v)}</td></tr>" for k, v in rows)
        self.header = QLabel(
            "<h2>Isthmus</h2><p>Lumbar spine imaging review: pars interarticularis defects, "
            f"spondylolisthesis, bone-marrow edema.</p><table>{facts}</table>"
            f"<p><b>Intended use.</b> {escape(INTENDED_USE)}</p><p><b>Bundled components and their licences</b></p>",
            self)
        self.header.setWordWrap(True)
        self.header.setObjectName("aboutHeader")
        components = [*bundled_components(), Component("Qt", qVersion(), "LGPL-3.0-only (through PySide6)")]
        self.table = QTableWidget(len(components), 3, self)
        self.table.setObjectName("aboutComponents")
        self.table.setHorizontalHeaderLabels(["Component", "Version", "Licence"])
        for r, c in enumerate(components):
            for col, text in enumerate((c.name, c.version, c.licence)):
                self.table.setItem(r, col, QTableWidgetItem(text))
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        lay = QVBoxLayout(self)
        lay.addWidget(self.header)
        lay.addWidget(self.table)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)

    @classmethod
    def show_for(cls, parent=None) -> None:
        cls(parent).exec()
