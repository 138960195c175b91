"""The report HTML laid out into a PDF by Qt's text engine (QTextDocument + QPdfWriter).

Chosen over a second HTML->PDF stack (Jinja2 + WeasyPrint) because Qt is already bundled, it
runs offscreen, and the same QTextDocument prints through QPrinter (docs/report.md)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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


def combined_document(reports: Sequence[ClinicReport]) -> Any:
    """One QTextDocument holding every report, each starting on a new page (clinic list: print all)."""
    from PySide6.QtGui import QTextBlockFormat, QTextCursor, QTextDocument, QTextFormat

    doc = QTextDocument()
    cursor = QTextCursor(doc)
    for i, report in enumerate(reports):
        part = report_document(report)
        for j in range(len(report.key_images)):
            from PySide6.QtCore import QUrl

            name = QUrl(f"keyimage{j}.png")
            doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(f"r{i}-keyimage{j}.png"),
                            part.resource(QTextDocument.ResourceType.ImageResource, name))
        html = render_html(report, image_src=lambda j, i=i: f"r{i}-keyimage{j}.png", css=False)
        if i:
            fmt = QTextBlockFormat()
            fmt.setPageBreakPolicy(QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
            cursor.insertBlock(fmt)
        cursor.insertHtml(html)
    return doc


def print_document(doc: Any, device: Any) -> None:
    from PySide6.QtCore import QMarginsF
    from PySide6.QtGui import QPageLayout, QPageSize

    device.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                     QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter))
    doc.print_(device)


def write_pdf(report: ClinicReport, path: str | os.PathLike) -> Path:
    from app.ui.selftest_render import ensure_application

    ensure_application()
    return write_document_pdf(report_document(report), path, report.title)


def write_document_pdf(doc: Any, path: str | os.PathLike, title: str) -> Path:
    from PySide6.QtGui import QPdfWriter

    out = Path(path)
    writer = QPdfWriter(str(out))
    writer.setResolution(300)
    writer.setTitle(title)
    writer.setCreator("Isthmus")
    print_document(doc, writer)
    del writer  # flushes the file
    return out


def pdf_bytes(report: ClinicReport) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        p = write_pdf(report, Path(tmp) / "report.pdf")
        return p.read_bytes()
