"""The report HTML laid out into a PDF by Qt's text engine (QTextDocument + QPdfWriter).

Chosen over a second HTML->PDF stack (Jinja2 + WeasyPrint) because Qt is already bundled, it
runs offscreen, and the same QTextDocument prints through QPrinter (docs/report.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Union

from app.report.html_render import render_html
from app.report.model import ClinicReport


def report_document(report: ClinicReport) -> Any:
    """A QTextDocument of the report, key images added as resources (needs a QGuiApplication)."""
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QImage, QTextDocument

    doc = QTextDocument()
    for i, k in enumerate(report.key_images):
        img = QImage.fromData(k.png, "PNG")
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(f"keyimage{i}.png"), img)
    doc.setHtml(render_html(report, image_src=lambda i: f"keyimage{i}.png", css=False))
    return doc


def print_document(doc: Any, device: Any) -> None:
    from PySide6.QtGui import QPageLayout, QPageSize
    from PySide6.QtCore import QMarginsF

    device.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                     QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter))
    doc.print_(device)


def write_pdf(report: ClinicReport, path: Union[str, os.PathLike]) -> Path:
    from PySide6.QtGui import QPdfWriter

    from app.ui.selftest_render import ensure_application

    ensure_application()
    out = Path(path)
    writer = QPdfWriter(str(out))
    writer.setResolution(300)
    writer.setTitle(report.title)
    writer.setCreator("Isthmus")
    doc = report_document(report)
    print_document(doc, writer)
    del writer  # flushes the file
    return out


def pdf_bytes(report: ClinicReport) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        p = write_pdf(report, Path(tmp) / "report.pdf")
        return p.read_bytes()
