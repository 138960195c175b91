"""Pathway panel: the decision-support result of a StudySession with its sources."""

from app.ui.pathway.panel import DEFAULT_DISCLAIMER, PathwayPanel

__all__ = ["DEFAULT_DISCLAIMER", "PathwayPanel"]
