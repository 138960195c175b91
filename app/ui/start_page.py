"""Start page: the bundled sample cases (each caseNN folder with its README's first line) and
the searchable study list of the local study database (app.ui.study_list). Shown when Isthmus
opens without paths, and from File > Sample cases and studies."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.paths import sample_dicom_dir
from app.studydb.database import StudyDatabase
from app.ui.study_list import StudyListPanel

PATHS_ROLE = Qt.ItemDataRole.UserRole + 2


def readme_first_line(folder: Path) -> str:
    for name in ("README.md", "README.txt", "README"):
        f = folder / name
        if f.is_file():
            try:
                for line in f.read_text(encoding="utf-8", errors="replace").splitlines():
                    s = line.strip().lstrip("#").strip()
                    if s:
                        return s
            except OSError:
                return ""
    return ""


def sample_cases(root: Path | None = None) -> list[tuple[Path, str]]:
    root = Path(root) if root else sample_dicom_dir()
    if not root.is_dir():
        return []
    return [(d, readme_first_line(d)) for d in sorted(root.iterdir()) if d.is_dir() and d.name.lower().startswith("case")]


class StartPage(QWidget):
    sig_open_requested = Signal(list)  # list of path strings
    sig_browse_requested = Signal()
    sig_add_to_clinic = Signal(list, str)  # ([the study's folder], study UID)

    def __init__(self, db: StudyDatabase | None = None, parent=None, samples_root: Path | None = None,
                 anonymised: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("StartPage")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(40, 30, 40, 30)
        title = QLabel("Isthmus")
        title.setObjectName("StartTitle")
        sub = QLabel("Lumbar spine review: pars interarticularis, spondylolisthesis, marrow edema. "
                     "Double-click a case or a study to open it in the pars hanging protocol.")
        sub.setObjectName("StartSubtitle")
        sub.setWordWrap(True)
        lay.addWidget(title)
        lay.addWidget(sub)
        cols = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(QLabel("Sample cases (synthetic)"))
        self.samples = QListWidget()
        self.samples.setObjectName("SampleList")
        self.samples.setWordWrap(True)  # long case titles wrap in the narrow column, no sideways scrolling
        self.samples.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.samples.setResizeMode(QListView.ResizeMode.Adjust)
        for path, line in sample_cases(samples_root):
            it = QListWidgetItem(f"{path.name}\n    {line}" if line else path.name)
            it.setData(PATHS_ROLE, [str(path)])
            it.setToolTip(str(path))
            self.samples.addItem(it)
        if self.samples.count() == 0:
            it = QListWidgetItem(f"No sample cases found in {sample_dicom_dir()}\n(make samples creates them)")
            it.setFlags(Qt.ItemFlag.NoItemFlags)
            self.samples.addItem(it)
        left.addWidget(self.samples)
        self.studies = StudyListPanel(db, self, anonymised=anonymised)
        self.studies.sig_open_requested.connect(self.sig_open_requested.emit)
        self.studies.sig_add_to_clinic.connect(self.sig_add_to_clinic.emit)
        self.studies.sig_browse_requested.connect(self.sig_browse_requested.emit)
        cols.addLayout(left, 2)
        cols.addWidget(self.studies, 5)
        lay.addLayout(cols, 1)
        self.samples.itemActivated.connect(self._activated)
        self.samples.itemDoubleClicked.connect(self._activated)

    def _activated(self, item: QListWidgetItem) -> None:
        paths = item.data(PATHS_ROLE)
        if paths:
            self.sig_open_requested.emit(list(paths))

    def set_anonymised(self, on: bool) -> None:
        self.studies.set_anonymised(on)


class StartDialog(QDialog):
    """The start page as a dialog (File > Sample cases and studies)."""

    def __init__(self, db: StudyDatabase | None, parent=None, anonymised: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sample cases and studies")
        self.resize(1100, 560)
        self.chosen: list[str] = []
        lay = QVBoxLayout(self)
        self.page = StartPage(db, self, anonymised=anonymised)
        self.page.sig_open_requested.connect(self._choose)
        self.page.sig_browse_requested.connect(self.reject)
        lay.addWidget(self.page)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)

    def _choose(self, paths: list) -> None:
        self.chosen = list(paths)
        self.accept()

    def done(self, result: int) -> None:
        self.page.studies.shutdown()
        super().done(result)

    @classmethod
    def ask(cls, db: StudyDatabase | None, parent=None, anonymised: bool = False) -> list[str]:
        d = cls(db, parent, anonymised=anonymised)
        return d.chosen if d.exec() else []
