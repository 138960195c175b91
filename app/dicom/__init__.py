"""DICOM core: scan folders into patients/studies/series, load volumes and radiographs.

Importing this package is cheap: pydicom, SimpleITK and the loaders are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["load_preview", "load_series", "scan_paths"]

if TYPE_CHECKING:  # pragma: no cover
    from app.dicom.load import load_preview, load_series
    from app.dicom.scan import scan_paths


def __getattr__(name: str) -> Any:
    if name == "scan_paths":
        from app.dicom.scan import scan_paths

        return scan_paths
    if name in ("load_series", "load_preview"):
        from app.dicom import load

        return getattr(load, name)
    raise AttributeError(f"module 'app.dicom' has no attribute {name!r}")
