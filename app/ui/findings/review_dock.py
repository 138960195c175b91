"""ReviewDock: Findings | Clinical context | Pathway tabs over one StudySession.

Main-window wiring, one line::

    self.addDockWidget(Qt.RightDockWidgetArea, make_review_dock(session, self))

``ReviewWidget.set_session(new)`` swaps the study without rebuilding the dock.
The dark style sheet is scoped to the dock (object name ``ReviewWidget``) so it matches a
dark radiology workstation without touching the rest of the application.
"""

from __future__ import annotations

from typing import Any, Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from app.ui.context import ClinicalContextForm
from app.ui.findings.panel import FindingsPanel
from app.ui.pathway import PathwayPanel

DARK_QSS = """
#ReviewWidget, #ReviewWidget QWidget { background: #262829; color: #dcdcdc; font-size: 9.5pt; }
#ReviewWidget QTabWidget::pane { border: 1px solid #3c3f41; top: -1px; }
#ReviewWidget QTabBar::tab { background: #1e2021; color: #a9a9a9; padding: 5px 14px;
    border: 1px solid #3c3f41; border-bottom: none; }
#ReviewWidget QTabBar::tab:selected { background: #262829; color: #ffffff; border-top: 2px solid #4a90d9; }
#ReviewWidget QGroupBox { border: 1px solid #44484a; border-radius: 3px; margin-top: 12px; padding-top: 4px; }
#ReviewWidget QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 3px; color: #9fb7d0; }
#ReviewWidget QTableView { background: #1c1e1f; alternate-background-color: #232627; gridline-color: #3a3d3f;
    selection-background-color: #2f4f6f; selection-color: #ffffff; border: 1px solid #3c3f41; }
#ReviewWidget QHeaderView::section { background: #303335; color: #cfcfcf; border: none;
    border-right: 1px solid #3c3f41; border-bottom: 1px solid #3c3f41; padding: 3px 5px; }
#ReviewWidget QLineEdit, #ReviewWidget QPlainTextEdit, #ReviewWidget QComboBox {
    background: #1b1d1e; color: #e6e6e6; border: 1px solid #4a4e50; border-radius: 2px; padding: 2px 4px; }
#ReviewWidget QComboBox QAbstractItemView { background: #1b1d1e; color: #e6e6e6;
    selection-background-color: #2f4f6f; }
#ReviewWidget QLineEdit:focus, #ReviewWidget QPlainTextEdit:focus, #ReviewWidget QComboBox:focus {
    border: 1px solid #4a90d9; }
#ReviewWidget QPushButton, #ReviewWidget QToolButton { background: #35393b; color: #e0e0e0;
    border: 1px solid #4f5457; border-radius: 3px; padding: 3px 10px; }
#ReviewWidget QPushButton:hover, #ReviewWidget QToolButton:hover { background: #41464a; }
#ReviewWidget QPushButton:disabled { color: #6b6b6b; }
#ReviewWidget QToolButton:checked { background: #2f4f6f; }
#ReviewWidget QScrollArea { border: none; }
#ReviewWidget QCheckBox::indicator { width: 12px; height: 12px; border: 1px solid #8a9196; background: #1b1d1e; }
#ReviewWidget QCheckBox::indicator:checked { background: #4a90d9; border: 1px solid #9cc4ee; }
#ReviewWidget QScrollBar:vertical { background: #1e2021; width: 11px; margin: 0; }
#ReviewWidget QScrollBar:horizontal { background: #1e2021; height: 11px; margin: 0; }
#ReviewWidget QScrollBar::handle { background: #4a4e50; border-radius: 4px; min-height: 24px; min-width: 24px; }
#ReviewWidget QScrollBar::add-line, #ReviewWidget QScrollBar::sub-line { width: 0; height: 0; }
#ReviewWidget QScrollBar::add-page, #ReviewWidget QScrollBar::sub-page { background: none; }
#ReviewWidget QFrame#recommendation { background: #2d3133; border: 1px solid #43484b; border-radius: 3px; }
#ReviewWidget QFrame#recommendation QLabel { background: transparent; }
#ReviewWidget QLabel#hint { color: #8c9396; font-size: 8.5pt; }
"""


class ReviewWidget(QWidget):
    """The three review tabs for one session."""

    def __init__(self, session: Any, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("ReviewWidget")
        self.setStyleSheet(DARK_QSS)
        self.tabs = QTabWidget(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.tabs)
        self.session = None
        self.findings_panel: Optional[FindingsPanel] = None
        self.context_form: Optional[ClinicalContextForm] = None
        self.pathway_panel: Optional[PathwayPanel] = None
        self.set_session(session)

    def set_session(self, session: Any) -> None:
        """Show another study's session (the old panels unsubscribe and are deleted)."""
        current = self.tabs.currentIndex()
        self.cleanup()
        while self.tabs.count():
            w = self.tabs.widget(0)
            self.tabs.removeTab(0)
            w.deleteLater()
        self.session = session
        self.findings_panel = FindingsPanel(session)
        self.context_form = ClinicalContextForm(session)
        self.pathway_panel = PathwayPanel(session)
        self.tabs.addTab(_scrolled(self.findings_panel), "Findings")
        self.tabs.addTab(_scrolled(self.context_form), "Clinical context")
        self.tabs.addTab(self.pathway_panel, "Pathway")
        session.pathway_changed.connect(self._update_pathway_tab)
        self._update_pathway_tab()
        if current >= 0:
            self.tabs.setCurrentIndex(current)

    def _update_pathway_tab(self, *_: Any) -> None:
        r = getattr(self.session, "pathway_result", None)
        title = "Pathway"
        if r is not None and getattr(r, "red_flags", ()):
            title = "Pathway ⚠"
        self.tabs.setTabText(2, title)

    def cleanup(self) -> None:
        if self.session is not None:
            try:
                self.session.pathway_changed.disconnect(self._update_pathway_tab)
            except Exception:
                pass
        for p in (self.findings_panel, self.context_form, self.pathway_panel):
            if p is not None:
                p.cleanup()

    def closeEvent(self, event: Any) -> None:  # noqa: N802
        self.cleanup()
        super().closeEvent(event)


def _scrolled(w: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setWidget(w)
    return area


def make_review_dock(session: Any, parent: Optional[QWidget] = None, title: str = "Review") -> QDockWidget:
    """A QDockWidget holding a ReviewWidget for ``session`` (``dock.widget()`` is the ReviewWidget)."""
    dock = QDockWidget(title, parent)
    dock.setObjectName("ReviewDock")
    dock.setAllowedAreas(Qt.DockWidgetArea.LeftDockWidgetArea | Qt.DockWidgetArea.RightDockWidgetArea)
    dock.setWidget(ReviewWidget(session, dock))
    dock.setMinimumWidth(460)  # ~600 px shows every findings column without scrolling
    return dock
