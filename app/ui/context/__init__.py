"""Clinical context form (every ClinicalContext field; unknown kept distinct)."""

from app.ui.context.form import ALL_FIELDS, ClinicalContextForm

__all__ = ["ALL_FIELDS", "ClinicalContextForm"]
