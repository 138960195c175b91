"""Findings panel: structured table (FindingsTableModel) bound to a StudySession."""

from app.ui.findings.panel import FindingsPanel
from app.ui.findings.table_model import FindingsTableModel

__all__ = ["FindingsPanel", "FindingsTableModel"]

from app.ui.findings.review_dock import ReviewWidget, make_review_dock

__all__ += ["ReviewWidget", "make_review_dock"]
