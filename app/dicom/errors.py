"""Typed errors of the DICOM core. Each names the file and says the problem in plain words."""

from __future__ import annotations

from pathlib import Path

PathLike = str | Path


class DicomLoadError(Exception):
    """Base class: something in a DICOM file or series could not be loaded."""

    def __init__(self, path: PathLike | None, message: str) -> None:
        self.path: Path | None = Path(path) if path is not None else None
        self.message = message
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{message}")


class NotDicom(DicomLoadError):
    """The file is not a DICOM file."""


class TruncatedFile(DicomLoadError):
    """The file ends before its data does (incomplete copy or transfer)."""


class NoPixelData(DicomLoadError):
    """The object has no image (pixel data) to show."""


class UnsupportedTransferSyntax(DicomLoadError):
    """The pixel data is compressed in a way no installed decoder handles."""


class InconsistentSeries(DicomLoadError):
    """The images of a series cannot be put together into one stack."""


class ImageTooLarge(DicomLoadError):
    """The declared image size is impossible for the data present or for the memory available."""


class PixelHeaderMismatch(DicomLoadError):
    """The compressed frame's own header disagrees with the DICOM header (rows, columns, samples)."""


class MosaicNotSupported(DicomLoadError):
    """A Siemens mosaic (many slices tiled into one image) that Isthmus refuses to show as a slice."""
