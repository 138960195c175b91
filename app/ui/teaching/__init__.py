"""Thin Qt layer of teaching mode (the core is app/teaching): case picker, attempt dock with
"Submit read", feedback with the discrepancy table, progress chart. Hook: ``install_teaching``."""

from app.ui.teaching.attempt import TeachingController, install_teaching

__all__ = ["TeachingController", "install_teaching"]
