"""Menu wiring of the clinic report: Review > Key image (K, as in Weasis), File > Export
report (PDF / HTML / DICOM Encapsulated PDF), File > Print report (QPrinter). Installed by
``install_report(window)``; kept as ``window.report``."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from app.report.identity import ReportError, read_study
from app.report.model import ClinicReport, KeyImageFigure, build_report
from app.ui.report.key_images import capture_key_image, key_image_where, render_key_image, source_display_for
from app.viewer.actions import shortcut_of

log = logging.getLogger(__name__)
KEY_IMAGE_SHORTCUT = "K"  # as in Weasis; cine play/pause moved to Shift+C (app/viewer/actions.py)
EXPORT_FILTERS = "PDF (*.pdf);;HTML (*.html);;DICOM Encapsulated PDF (*.dcm)"


class ReportActions(QObject):
    sig_key_images_changed = Signal()

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        bar = window.menuBar()
        file_menu = next((a.menu() for a in bar.actions() if a.text().replace("&", "") == "File"), None)
        self.export_action = QAction("Export report...", window)
        self.export_action.setObjectName("report.export")
        self.export_action.triggered.connect(lambda *_: self.export_dialog())
        self.print_action = QAction("Print report...", window)
        self.print_action.setObjectName("report.print")
        self.print_action.setShortcut(QKeySequence(shortcut_of("report.print")))
        self.print_action.triggered.connect(lambda *_: self.print_dialog())
        if file_menu is not None:
            quit_action = next((a for a in file_menu.actions() if a.text().startswith("Quit")), None)
            for a in (self.export_action, self.print_action):
                file_menu.insertAction(quit_action, a) if quit_action else file_menu.addAction(a)
            file_menu.insertSeparator(quit_action) if quit_action else None
        self.menu = bar.addMenu("Re&view")
        help_menu = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
        if help_menu is not None:
            bar.insertAction(help_menu, self.menu.menuAction())
        self.key_action = QAction("Key image (mark this view)", window)
        self.key_action.setObjectName("report.key_image")
        self.key_action.setShortcut(QKeySequence(KEY_IMAGE_SHORTCUT))
        self.key_action.triggered.connect(lambda *_: self.mark_key_image())
        window.addAction(self.key_action)
        self.menu.addAction(self.key_action)
        self.menu.addSeparator()
        from app.ui.report.review_mode import ReviewMode

        self.review_mode = ReviewMode(window, self.menu)
        self.menu.addSeparator()
        self.clinic_action = QAction("Clinic list...", window)
        self.clinic_action.setObjectName("report.clinic_list")
        self.clinic_action.triggered.connect(lambda *_: self.show_clinic_list())
        self.menu.addAction(self.clinic_action)
        self.clinic_dialog: Any = None
        for source in (getattr(window, "browser", None), getattr(window, "start_page", None)):
            signal = getattr(source, "sig_add_to_clinic", None)
            if signal is not None:
                signal.connect(lambda paths, uid="", *_: self.add_study_to_clinic(list(paths), str(uid)))

    # ---- session access ---------------------------------------------------------------------
    @property
    def session(self) -> Any:
        ws = getattr(self.window, "annotations", None)
        return getattr(ws, "session", None)

    def _message(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 8000)

    def _active_view(self) -> Any:
        grid = self.window.grid
        if grid.active is not None and getattr(grid.active, "display", None) is not None:
            return grid.active
        return next((v for v in grid.views() if getattr(v, "display", None) is not None), None)

    # ---- key images -------------------------------------------------------------------------
    def mark_key_image(self, caption: str | None = None) -> Any:
        """Mark the active cell's view as a key image (asks for an optional caption when
        ``caption`` is None). Returns the KeyImage, or None when nothing was marked."""
        session, view = self.session, self._active_view()
        if session is None or view is None:
            self._message("Key image: open a study first")
            return None
        if caption is None:
            caption, ok = QInputDialog.getText(self.window, "Key image", "Caption (optional):")
            if not ok:
                return None
        ws = self.window.annotations
        try:
            key = capture_key_image(view, list(session.annotation_store), caption, ws.frame_of_reference)
        except ReportError as exc:
            self._message(f"Key image: {exc}")
            return None
        session.set_findings(session.findings.with_key_image(key))
        self.sig_key_images_changed.emit()
        self._message(f"Key image {len(session.findings.key_images)} marked" + (f": {key.caption}" if key.caption else ""))
        return key

    def key_image_figures(self) -> tuple[KeyImageFigure, ...]:
        session = self.session
        ws = self.window.annotations
        figures = []
        for key in session.findings.key_images:
            source = source_display_for(key, self.window.grid.all_views)
            png = b""
            if source is not None:
                try:
                    png = render_key_image(key, source, list(session.annotation_store), ws.frame_of_reference)
                except Exception:
                    log.exception("key image %s not rendered", key.key_image_id)
            desc = next((v.series_description for v in self.window.grid.all_views
                         if getattr(v, "display", None) is source and source is not None), "")
            figures.append(KeyImageFigure(caption=key.caption, png=png, where=key_image_where(key, desc)))
        return tuple(figures)

    # ---- report -----------------------------------------------------------------------------
    def current_report(self, anonymise: bool | None = None) -> tuple[ClinicReport, list]:
        """(report of the open study, the study's header datasets for DICOM export)."""
        session = self.session
        if session is None:
            raise ReportError("no study open")
        anonymise = bool(self.window.state.anonymise) if anonymise is None else anonymise
        identity, headers = None, []
        if session.study_source is not None:
            identity, headers = read_study(session.study_source, session.findings.study_instance_uid)
        report = build_report(session.findings, session.pathway_result, identity, self.key_image_figures(),
                              anonymise=anonymise)
        return report, headers

    def export_report(self, path: Any, anonymise: bool | None = None) -> Path:
        from app.core.atomic import write_bytes_atomic, write_text_atomic
        from app.report.html_render import render_html
        from app.ui.report.pdf import pdf_bytes

        out = Path(path)
        suffix = out.suffix.lower()
        if suffix not in (".pdf", ".html", ".htm", ".dcm"):
            raise ReportError(f"{out}: unknown report format '{suffix}' (use .pdf, .html or .dcm)")
        report, headers = self.current_report(False if suffix == ".dcm" else anonymise)
        if suffix in (".html", ".htm"):
            write_text_atomic(out, render_html(report))
        elif suffix == ".pdf":
            write_bytes_atomic(out, pdf_bytes(report))
        else:
            from app.report.encapsulated_pdf import encapsulate_pdf

            encapsulate_pdf(pdf_bytes(report), headers, out)
        return out

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Export report", "report.pdf", EXPORT_FILTERS)
        if not path:
            return
        try:
            out = self.export_report(path)
        except (ReportError, OSError) as exc:
            QMessageBox.warning(self.window, "Export report", str(exc))
            return
        self._message(f"Report written to {out}")

    def print_report(self, printer: Any) -> None:
        from app.ui.report.pdf import print_document, report_document

        report, _ = self.current_report()
        print_document(report_document(report), printer)

    def print_dialog(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        if QPrintDialog(printer, self.window).exec() != QPrintDialog.DialogCode.Accepted:
            return
        try:
            self.print_report(printer)
        except ReportError as exc:
            QMessageBox.warning(self.window, "Print report", str(exc))


    def add_study_to_clinic(self, paths: list[str], study_uid: str = "", date: str | None = None) -> Any:
        """Add the study under ``paths`` with its findings (the open study's saved file, else its
        autosave) to the clinic list of ``date`` (asked when None). The clinic list window, or None."""
        from app.report.clinic_list import findings_for_study
        from app.ui.report.clinic_dialog import ask_clinic_date

        try:
            study_uid = study_uid or read_study(paths)[0].study_instance_uid
        except ReportError as exc:
            QMessageBox.warning(self.window, "Add to clinic list", str(exc))
            return None
        dialog = self.show_clinic_list()
        date = date or ask_clinic_date(self.window, dialog.clinic.date)
        if not date:
            return None
        session = self.session
        findings = findings_for_study(study_uid, getattr(session, "study_uid", ""), getattr(session, "path", None))
        study = paths[0] if len(paths) == 1 else os.path.commonpath([str(Path(p).parent) for p in paths])
        dialog.add_on(date, study, findings)
        self._message(f"Added to the clinic list of {date}")
        return dialog

    def show_clinic_list(self) -> Any:
        from app.ui.report.clinic_dialog import ClinicListDialog

        if self.clinic_dialog is None:
            self.clinic_dialog = ClinicListDialog(self.window)
        self.clinic_dialog.show()
        self.clinic_dialog.raise_()
        return self.clinic_dialog


def install_report(window: Any) -> ReportActions:
    actions = ReportActions(window)
    window.report = actions
    return actions
