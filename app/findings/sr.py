"""DICOM SR export/import of findings (facade): see sr_export, sr_import and docs/sr-coding.md."""

from app.findings.sr_export import SRExportError, export_sr, findings_to_sr, read_study_headers  # noqa: F401
from app.findings.sr_import import SRImportError, findings_from_sr, load_findings_from_sr  # noqa: F401
