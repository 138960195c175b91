"""The clinic list window: a dated list of studies (study folder + findings file) showing per
patient the tier, headline and whether a report exists; Open / Previous / Next open each study
in review mode, in order; Print all prints every report in one job (or saves them as one PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QTimer
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from app.report.clinic_list import ClinicList, ClinicRow, load_clinic_list, save_clinic_list, summarise
from app.report.identity import ReportError

COLUMNS = ("Patient", "Study date", "Tier", "Headline", "Report")


class ClinicListDialog(QDialog):
    def __init__(self, window: Any, clinic: ClinicList | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.setWindowTitle("Clinic list")
        self.resize(900, 420)
        self.clinic = clinic or ClinicList()
        self.lists: dict[str, ClinicList] = {}  # date -> list, for the dates this session added to
        self.current: int | None = None
        self.rows: list[ClinicRow] = []
        self.date = QDateEdit(QDate.fromString(self.clinic.date, "yyyy-MM-dd"))
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.date.dateChanged.connect(self._date_changed)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.cellDoubleClicked.connect(lambda r, _c: self.open_entry(r))
        self.status = QLabel("")
        buttons = {}
        for name, slot in (("Add study...", self.add_dialog), ("Remove", self.remove_selected),
                           ("Open", lambda: self.open_entry(self.table.currentRow())),
                           ("Previous", lambda: self.step(-1)), ("Next", lambda: self.step(1)),
                           ("Print all...", self.print_all_dialog), ("Save all as PDF...", self.save_all_dialog),
                           ("Save list...", self.save_dialog), ("Load list...", self.load_dialog)):
            b = QPushButton(name)
            b.clicked.connect(lambda *_a, s=slot: s())
            buttons[name] = b
        self.buttons = buttons
        top = QHBoxLayout()
        top.addWidget(QLabel("Clinic date"))
        top.addWidget(self.date)
        top.addStretch(1)
        for name in ("Add study...", "Remove", "Save list...", "Load list..."):
            top.addWidget(buttons[name])
        bottom = QHBoxLayout()
        for name in ("Open", "Previous", "Next"):
            bottom.addWidget(buttons[name])
        bottom.addStretch(1)
        for name in ("Save all as PDF...", "Print all..."):
            bottom.addWidget(buttons[name])
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.status)
        lay.addLayout(bottom)
        self.refresh()

    # ---- list ---------------------------------------------------------------------------------
    def _date_changed(self, d: QDate) -> None:
        from dataclasses import replace

        self.clinic = replace(self.clinic, date=d.toString("yyyy-MM-dd"))

    def set_clinic(self, clinic: ClinicList) -> None:
        self.clinic = clinic
        self.date.setDate(QDate.fromString(clinic.date, "yyyy-MM-dd"))
        self.current = None
        self.refresh()

    def add(self, study: Any, findings: Any) -> None:
        self.clinic = self.clinic.add(study, findings)
        self.refresh()

    def add_on(self, date: str, study: Any, findings: Any) -> None:
        """Add a study to the clinic list of ``date`` (YYYY-MM-DD), which the window then shows;
        the lists of other dates made in this session are kept."""
        self.lists[self.clinic.date] = self.clinic
        target = self.lists.get(date) or ClinicList(date=date)
        self.set_clinic(target.add(study, findings))
        self.lists[date] = self.clinic

    def refresh(self) -> None:
        self.rows = [summarise(e) for e in self.clinic.entries]
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            marker = "▶ " if r == self.current else ""
            values = (marker + row.patient, row.study_date, row.tier, row.headline, "yes" if row.report_exists else "no")
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                if row.problem:
                    item.setToolTip(row.problem)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        n = len(self.rows)
        self.status.setText(f"{n} stud{'y' if n == 1 else 'ies'} for clinic on {self.clinic.date}"
                            + (f"; reviewing {self.current + 1} of {n}" if self.current is not None else ""))

    def remove_selected(self) -> None:
        r = self.table.currentRow()
        if 0 <= r < len(self.clinic.entries):
            self.clinic = self.clinic.remove(r)
            self.current = None
            self.refresh()

    # ---- review in order ------------------------------------------------------------------------
    def open_entry(self, index: int) -> None:
        if not 0 <= index < len(self.clinic.entries):
            return
        entry = self.clinic.entries[index]
        self.current = index
        self.table.selectRow(index)
        self.refresh()
        self.window.report.review_mode.set_reviewing(True)
        self.window.open_paths([str(entry.study)])
        self._pending = (entry.findings, 0)
        QTimer.singleShot(200, self._load_findings_when_ready)

    def _load_findings_when_ready(self) -> None:
        path, tries = self._pending
        ws = getattr(self.window, "annotations", None)
        session = getattr(ws, "session", None)
        if session is None or getattr(self.window.controller, "busy", False):
            if tries < 150:
                self._pending = (path, tries + 1)
                QTimer.singleShot(200, self._load_findings_when_ready)
            return
        try:
            session.open(path)
        except Exception as exc:
            self.status.setText(f"Findings not opened: {exc}")

    def step(self, delta: int) -> None:
        start = self.current if self.current is not None else (-1 if delta > 0 else len(self.clinic.entries))
        j = start + delta
        if 0 <= j < len(self.clinic.entries):
            self.open_entry(j)

    # ---- print / save all -----------------------------------------------------------------------
    def _all_reports(self) -> list:
        """Every entry's report with its key images drawn (as the single export draws them)."""
        from app.ui.report.study_key_images import clinic_entry_report

        reports, problems, notes = [], [], []
        for e in self.clinic.entries:
            try:
                report, drawn = clinic_entry_report(e)
            except ReportError as exc:
                problems.append(str(exc))
                continue
            reports.append(report)
            notes += [f"{e.findings.name}: {p}" for p in drawn]
        if problems:
            QMessageBox.warning(self, "Clinic list", "Not included:\n" + "\n".join(problems))
        if notes:
            self.status.setText("Key images: " + "; ".join(notes))
        return reports

    def save_all_pdf(self, path: Any) -> Path:
        from app.ui.report.pdf import combined_document, write_document_pdf

        return write_document_pdf(combined_document(self._all_reports()), path, f"Clinic {self.clinic.date}")

    def save_all_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save all reports", f"clinic-{self.clinic.date}.pdf", "PDF (*.pdf)")
        if path:
            self.save_all_pdf(path)
            self.status.setText(f"Saved {path}")

    def print_all_dialog(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        from app.ui.report.pdf import combined_document, print_document

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        if QPrintDialog(printer, self).exec() == QPrintDialog.DialogCode.Accepted:
            print_document(combined_document(self._all_reports()), printer)

    def add_dialog(self) -> None:
        study = QFileDialog.getExistingDirectory(self, "Study folder")
        if not study:
            return
        findings, _ = QFileDialog.getOpenFileName(self, "Findings file", study, "Findings (*.json)")
        if findings:
            self.add(study, findings)

    def save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save clinic list", f"clinic-{self.clinic.date}.json", "JSON (*.json)")
        if path:
            save_clinic_list(self.clinic, path)

    def load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load clinic list", "", "JSON (*.json)")
        if path:
            try:
                self.set_clinic(load_clinic_list(path))
            except ReportError as exc:
                QMessageBox.warning(self, "Clinic list", str(exc))


def ask_clinic_date(parent: Any, default: str) -> str | None:
    """The clinic date (YYYY-MM-DD) the user picks, None when cancelled."""
    from PySide6.QtWidgets import QDialogButtonBox

    dialog = QDialog(parent)
    dialog.setWindowTitle("Add to clinic list")
    edit = QDateEdit(QDate.fromString(default, "yyyy-MM-dd"))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    lay = QVBoxLayout(dialog)
    lay.addWidget(QLabel("Clinic date"))
    lay.addWidget(edit)
    lay.addWidget(buttons)
    return edit.date().toString("yyyy-MM-dd") if dialog.exec() else None
