"""Help > About: version, build date, ruleset version, intended use and the licences of the
bundled components (contents from app.about, Qt-free)."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QLabel

from app.about import INTENDED_USE, Component, build_info, bundled_components, ruleset_version
from app.ui.dialogs.table_dialog import TableDialog


def _header_html() -> str:
    info = build_info()
    rows = [("Version", info["version"]), ("Build date", info["build_date"]), ("Build commit", info["commit"]),
            ("Pathway ruleset", ruleset_version())]
    facts = "".join(f"<tr><td><b>{escape(k)}</b>&nbsp;&nbsp;</td><td>{escape(v)}</td></tr>" for k, v in rows)
    return ("<h2>Isthmus</h2><p>Lumbar spine imaging review: pars interarticularis defects, "
            f"spondylolisthesis, bone-marrow edema.</p><table>{facts}</table>"
            f"<p><b>Intended use.</b> {escape(INTENDED_USE)}</p><p><b>Bundled components and their licences</b></p>")


class AboutDialog(TableDialog):
    def __init__(self, parent=None) -> None:
        self.header = QLabel(_header_html())
        self.header.setWordWrap(True)
        self.header.setObjectName("aboutHeader")
        components = [*bundled_components(), Component("Qt", qVersion(), "LGPL-3.0-only (through PySide6)")]
        super().__init__("About Isthmus", ["Component", "Version", "Licence"],
                         [(c.name, c.version, c.licence) for c in components], above=self.header, parent=parent)
        self.table.setObjectName("aboutComponents")
        self.resize(640, 620)
