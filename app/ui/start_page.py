"""Start page: the bundled sample cases (each caseNN folder with its README's first line) and
the recent studies. Shown when Isthmus opens without paths, and from File > Sample cases."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.paths import sample_dicom_dir

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
    sig_add_to_clinic = Signal(list)  # the recent study's paths

    def __init__(self, recent: list[list[str]], parent=None, samples_root: Path | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StartPage")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(40, 30, 40, 30)
        title = QLabel("Isthmus")
        title.setObjectName("StartTitle")
        sub = QLabel("Lumbar spine review: pars interarticularis, spondylolisthesis, marrow edema. "
                     "Double-click a case to open it in the pars hanging protocol.")
        sub.setObjectName("StartSubtitle")
        sub.setWordWrap(True)
        lay.addWidget(title)
        lay.addWidget(sub)
        cols = QHBoxLayout()
        left, right = QVBoxLayout(), QVBoxLayout()
        left.addWidget(QLabel("Sample cases (synthetic)"))
        self.samples = QListWidget()
        self.samples.setObjectName("SampleList")
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
        right.addWidget(QLabel("Recent studies"))
        self.recent = QListWidget()
        for paths in recent:
            label = ", ".join(Path(p).name for p in paths)
            it = QListWidgetItem(f"{label}\n    {Path(paths[0]).parent if paths else ''}")
            it.setData(PATHS_ROLE, paths)
            it.setToolTip("\n".join(paths))
            self.recent.addItem(it)
        if not recent:
            it = QListWidgetItem("No recent studies yet")
            it.setFlags(Qt.ItemFlag.NoItemFlags)
            self.recent.addItem(it)
        self.recent.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.recent.customContextMenuRequested.connect(self._show_recent_menu)
        right.addWidget(self.recent)
        browse = QPushButton("Open folder...")
        browse.clicked.connect(self.sig_browse_requested.emit)
        right.addWidget(browse)
        cols.addLayout(left, 3)
        cols.addLayout(right, 2)
        lay.addLayout(cols, 1)
        for lst in (self.samples, self.recent):
            lst.itemActivated.connect(self._activated)
            lst.itemDoubleClicked.connect(self._activated)

    def _activated(self, item: QListWidgetItem) -> None:
        paths = item.data(PATHS_ROLE)
        if paths:
            self.sig_open_requested.emit(list(paths))


    def recent_menu(self, item: QListWidgetItem | None) -> QMenu | None:
        """A recent study's menu: "Add to clinic list..." (None on the placeholder row)."""
        paths = item.data(PATHS_ROLE) if item is not None else None
        if not paths:
            return None
        menu = QMenu(self)
        add = menu.addAction("Add to clinic list...")
        add.setObjectName("start.add_to_clinic")
        add.triggered.connect(lambda *_: self.sig_add_to_clinic.emit(list(paths)))
        return menu

    def _show_recent_menu(self, pos) -> None:
        menu = self.recent_menu(self.recent.itemAt(pos))
        if menu is not None:
            menu.exec(self.recent.viewport().mapToGlobal(pos))


class StartDialog(QDialog):
    """The start page as a dialog (File > Sample cases and recent studies)."""

    def __init__(self, recent: list[list[str]], parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sample cases and recent studies")
        self.resize(820, 520)
        self.chosen: list[str] = []
        lay = QVBoxLayout(self)
        self.page = StartPage(recent, self)
        self.page.sig_open_requested.connect(self._choose)
        self.page.sig_browse_requested.connect(self.reject)
        lay.addWidget(self.page)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)

    def _choose(self, paths: list) -> None:
        self.chosen = list(paths)
        self.accept()

    @classmethod
    def ask(cls, recent, parent=None) -> list[str]:
        d = cls(recent, parent)
        return d.chosen if d.exec() else []
