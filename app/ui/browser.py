"""Study browser: patients > studies > series with thumbnails, modality badges, descriptions,
image counts and the loader's warnings; skipped files listed at the end."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPixmap, QPixmapCache
from PySide6.QtWidgets import QHeaderView, QMenu, QTreeWidget, QTreeWidgetItem

from app.ui.viewer.image_item import to_qimage

BADGE_COLORS = {"CT": "#3d7be0", "MR": "#9a5bd6", "DX": "#2f9e6b", "CR": "#2f9e6b"}
THUMB = 56
KEY_ROLE = Qt.ItemDataRole.UserRole + 1


def badge_icon(modality: str, pixels=None) -> QIcon:
    pm = QPixmap(THUMB, THUMB)
    pm.fill(QColor(10, 10, 12))
    p = QPainter(pm)
    if pixels is not None:
        img = to_qimage(pixels)
        scaled = img.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        p.drawImage((THUMB - scaled.width()) // 2, (THUMB - scaled.height()) // 2, scaled)
    color = QColor(BADGE_COLORS.get(modality, "#777777"))
    p.setBrush(color)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(1, THUMB - 15, 24, 14, 3, 3)
    f = QFont()
    f.setPointSize(7)
    f.setBold(True)
    p.setFont(f)
    p.setPen(QColor("white"))
    p.drawText(1, THUMB - 15, 24, 14, Qt.AlignmentFlag.AlignCenter, modality[:3])
    p.end()
    return QIcon(pm)


_SKIPPED_WORDS = (("error", "unreadable"), ("duplicate", "duplicate"), ("non-image", "without an image"),
                  ("not-dicom", "not DICOM"))


def skipped_summary(skipped) -> tuple[str, bool]:
    """("1 unreadable, 2 not DICOM — not shown", True): the skipped files by kind (first, so a
    narrow browser column still shows them), and whether
    any is a problem (an unreadable or ungroupable DICOM file) rather than a companion file such
    as a README, a DICOMDIR or a duplicate copy."""
    counts: dict[str, int] = {}
    for f in skipped:
        cat = f.category if f.category in dict(_SKIPPED_WORDS) else "error"
        counts[cat] = counts.get(cat, 0) + 1
    parts = [f"{counts[c]} {w}" for c, w in _SKIPPED_WORDS if counts.get(c)]
    problem = bool(counts.get("error"))
    return ("\u26a0 " if problem else "") + ", ".join(parts) + " \u2014 not shown", problem


class StudyBrowser(QTreeWidget):
    sig_series_activated = Signal(str)
    sig_add_to_clinic = Signal(list, str)  # (the study's folder as a one-path list, study instance UID)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderLabels(["Series", "Images"])
        self.setIconSize(QSize(THUMB, THUMB))
        self.setIndentation(12)
        self.setUniformRowHeights(False)
        self.setAlternatingRowColors(False)
        self.header().setStretchLastSection(False)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self._series_items: dict[str, QTreeWidgetItem] = {}
        self._patient_items: list[tuple[QTreeWidgetItem, object]] = []  # (row, PatientEntry)
        self._study_items: list[tuple[QTreeWidgetItem, object]] = []  # (row, StudyEntry)
        self._active_patient_id: str = ""
        self.anonymised = False
        self.itemDoubleClicked.connect(self._on_double)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._show_context_menu)

    def populate(self, result, anonymised: bool = False) -> None:
        self.clear_study()
        self.anonymised = anonymised
        for n, pat in enumerate(result.patients, 1):
            pi = QTreeWidgetItem(self, ["", ""])
            self._patient_items.append((pi, pat))
            self._label_patient(pi, pat, n)
            for st in pat.studies:
                si = QTreeWidgetItem(pi, [" ".join(x for x in (st.study_date, st.description) if x) or "Study", ""])
                self._study_items.append((si, st))
                for s in st.series:
                    desc = s.description or "(no description)"
                    it = QTreeWidgetItem(si, [f"{s.modality_code}  {desc}", str(s.n_images)])
                    it.setIcon(0, badge_icon(s.modality_code))
                    it.setData(0, KEY_ROLE, s.key)
                    tips = [f"{s.modality_code} {desc}", f"{s.n_images} images", f"series {s.series_instance_uid}"]
                    if s.view is not None:
                        tips.append(f"view: {s.view.value}")
                    if s.sequence is not None:
                        tips.append(f"sequence: {s.sequence.value}")
                    if s.split_note:
                        tips.append(s.split_note)
                    it.setToolTip(0, "\n".join(tips))
                    it.setSizeHint(0, QSize(THUMB, THUMB + 4))
                    self._series_items[s.key] = it
                    for w in ([s.split_note] if s.split_note else []) + list(s.warnings):
                        wi = QTreeWidgetItem(it, [f"\u26a0 {w}", ""])
                        wi.setForeground(0, QBrush(QColor(240, 180, 60)))
                        wi.setToolTip(0, w)
                    it.setExpanded(True)
                si.setExpanded(True)
            pi.setExpanded(True)
        self._relabel()
        if result.skipped:
            text, problem = skipped_summary(result.skipped)
            sk = QTreeWidgetItem(self, [text, ""])
            sk.setForeground(0, QBrush(QColor(240, 180, 60) if problem else QColor(160, 160, 160)))
            sk.setToolTip(0, "Files in the folder that are not shown; expand for each file and why")
            for f in result.skipped[:200]:
                c = QTreeWidgetItem(sk, [f"{f.path.name}: {f.reason}", ""])
                c.setToolTip(0, str(f.path))

    def clear_study(self) -> None:
        """No study: no rows (no patient name stays in the dock) and no thumbnail kept."""
        self.clear()
        # Qt keeps every icon pixmap it has painted in QPixmapCache (QPixmapIconEngine::pixmap)
        # after its item is gone, up to the cache's 10 MB: the studies shown before, about 1.2 MB
        # more per round of the six sample cases (heaptrack; bench/bigct_bench.py, issue 16).
        # What else the cache holds (style pixmaps) is drawn again on demand.
        QPixmapCache.clear()
        self._series_items.clear()
        self._patient_items.clear()
        self._study_items.clear()
        self._active_patient_id = ""

    def _label_patient(self, item: QTreeWidgetItem, pat, n: int) -> None:
        active = bool(self._active_patient_id) and pat.patient_id == self._active_patient_id
        mark = "\u25b6 " if active else ""
        if self.anonymised:
            item.setText(0, f"{mark}Anonymised patient {n}")
            item.setToolTip(0, "Anonymised display is on")
        else:
            name = " ".join(pat.patient_name.replace("^", " ").split()) or "(no name)"
            item.setText(0, f"{mark}{name}   {pat.patient_id}".strip())
            item.setToolTip(0, f"Patient {name}, ID {pat.patient_id}, born {pat.birth_date or '?'}, "
                               f"sex {pat.sex or '?'}" + ("  (shown now)" if active else ""))
        f = item.font(0)
        f.setBold(True)
        f.setUnderline(active)
        item.setFont(0, f)

    def _relabel(self) -> None:
        for n, (item, pat) in enumerate(self._patient_items, 1):
            self._label_patient(item, pat, n)
        for item, st in self._study_items:  # the accession number identifies the patient too
            item.setToolTip(0, "Anonymised display is on" if self.anonymised
                            else f"Study {st.study_instance_uid}\nAccession {st.accession_number}")

    def set_anonymised(self, on: bool) -> None:
        self.anonymised = bool(on)
        self._relabel()

    def set_active_patient(self, patient_id: str) -> None:
        """Mark the patient whose series the layout shows (one patient at a time)."""
        self._active_patient_id = patient_id
        self._relabel()

    def patient_rows(self) -> list[str]:
        return [item.text(0) for item, _p in self._patient_items]

    def set_thumbnail(self, key: str, pixels) -> None:
        it = self._series_items.get(key)
        if it is not None:
            mod = it.text(0).split()[0] if it.text(0) else ""
            it.setIcon(0, badge_icon(mod, pixels))

    def series_keys(self) -> list[str]:
        return list(self._series_items)

    def item_for(self, key: str):
        return self._series_items.get(key)

    def _on_double(self, item: QTreeWidgetItem, column: int) -> None:
        key = item.data(0, KEY_ROLE)
        if key:
            self.sig_series_activated.emit(str(key))

    def study_of(self, item: QTreeWidgetItem | None):
        """The StudyEntry of a study row or of any row below it (None for patients, skipped files)."""
        studies = {id(row): st for row, st in self._study_items}
        while item is not None:
            if id(item) in studies:
                return studies[id(item)]
            item = item.parent()
        return None

    def context_menu(self, item: QTreeWidgetItem | None) -> QMenu | None:
        """The row's menu: "Add to clinic list..." on a study or series row."""
        study = self.study_of(item)
        folder = study_folder(study) if study is not None else ""
        if not folder:
            return None
        menu = QMenu(self)
        add = menu.addAction("Add to clinic list...")
        add.setObjectName("browser.add_to_clinic")
        add.triggered.connect(lambda *_: self.sig_add_to_clinic.emit([folder], study.study_instance_uid))
        return menu

    def _show_context_menu(self, pos) -> None:
        menu = self.context_menu(self.itemAt(pos))
        if menu is not None:
            menu.exec(self.viewport().mapToGlobal(pos))


def study_folder(study) -> str:
    """The folder holding every image of a study (the common parent of its files)."""
    dirs = {str(Path(h.path).parent) for s in study.series for h in s.instances}
    return os.path.commonpath(sorted(dirs)) if dirs else ""
