"""File > Query PACS...: search a node's studies, look at their series, retrieve one with progress.

Every app.net call runs in a worker (NetTask) with its CancelToken; the dialog only shows what
comes back. A finished retrieve (complete, or partial with what arrived) is emitted as
``retrieved(node, RetrieveResult)``; the window opens it (app.ui.pacs.menu).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.paths import user_data_dir
from app.net import client
from app.net.models import RetrieveProgress, RetrieveResult, SeriesRecord, StudyQuery, StudyRecord
from app.net.nodes import DimseNode, Node, NodeStore
from app.ui.pacs.secrets import ensure_secret
from app.ui.pacs.tasks import NetTask
from app.ui.pacs.widgets import NodeCombo, StatusLabel

MODALITIES = ("", "CT", "MR", "CR", "DX", "NM", "PT", "XA", "RF", "SR", "OT")
STUDY_COLUMNS = ["Patient", "Patient ID", "Birth date", "Study date", "Description", "Accession", "Modalities",
                 "Series", "Instances"]
_UID_ROLE = Qt.ItemDataRole.UserRole


def parse_date(text: str, what: str) -> dt.date | None:
    """'2026-01-31' or '20260131' -> date; '' -> None (any). ValueError naming the field."""
    value = text.strip().replace("-", "")
    if not value:
        return None
    try:
        return dt.datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        raise ValueError(f"{what}: '{text.strip()}' is not a date (YYYY-MM-DD)") from None


def _da(value: str) -> str:
    v = value.strip()
    return f"{v[:4]}-{v[4:6]}-{v[6:]}" if len(v) == 8 and v.isdigit() else v


def _count(value: int | None) -> str:
    return "?" if value is None else str(value)  # unknown stays unknown


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB"


def retrieve_root() -> Path:
    """Where retrieved studies are kept: the user data folder, one subfolder per node."""
    return user_data_dir() / "retrieved"


class QueryRetrieveDialog(QDialog):
    retrieved = Signal(object, object)  # (Node, RetrieveResult)

    def __init__(self, store: NodeStore | None = None, dest_root: Path | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Query PACS")
        self.store = store or NodeStore()
        self.dest_root = dest_root
        self.studies: list[StudyRecord] = []
        self.tasks: list[NetTask] = []  # kept until the dialog closes: a runnable is never freed while it runs
        self.search_task: NetTask | None = None
        self.retrieve_task: NetTask | None = None
        self.last_result: RetrieveResult | None = None
        self._generation = 0  # bumped by each search: series answers for an older result list are dropped
        self._build()
        self.load_nodes()

    # ---- layout --------------------------------------------------------------------------------
    def _build(self) -> None:
        self.node_combo = NodeCombo("queryNode")
        self.patient_name, self.patient_id = QLineEdit(), QLineEdit()
        self.date_from, self.date_to = QLineEdit(), QLineEdit()
        for edit in (self.date_from, self.date_to):
            edit.setPlaceholderText("YYYY-MM-DD")
        self.patient_name.setPlaceholderText("DOE* (wildcards * and ?)")
        self.modality = QComboBox()
        self.modality.setEditable(True)
        self.modality.addItems(list(MODALITIES))
        self.accession, self.description = QLineEdit(), QLineEdit()
        for name, w in (("queryPatientName", self.patient_name), ("queryPatientId", self.patient_id),
                        ("queryDateFrom", self.date_from), ("queryDateTo", self.date_to),
                        ("queryModality", self.modality), ("queryAccession", self.accession),
                        ("queryDescription", self.description)):
            w.setObjectName(name)
        fields = QGridLayout()
        for i, (label, field) in enumerate((("Patient name", self.patient_name), ("Patient ID", self.patient_id),
                                        ("Study date from", self.date_from), ("to", self.date_to),
                                        ("Modality", self.modality), ("Accession", self.accession),
                                        ("Description", self.description))):
            fields.addWidget(QLabel(label), i // 2, (i % 2) * 2)
            fields.addWidget(field, i // 2, (i % 2) * 2 + 1)
        self.search_button = QPushButton("Search")
        self.search_button.setObjectName("querySearch")
        self.search_button.setDefault(True)
        fields.addWidget(self.search_button, 3, 3)
        self.results = QTreeWidget()
        self.results.setObjectName("queryResults")
        self.results.setHeaderLabels(STUDY_COLUMNS)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setRootIsDecorated(True)
        self.results.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.via = QComboBox()
        self.via.setObjectName("retrieveVia")
        self.retrieve_button = QPushButton("Retrieve")
        self.retrieve_button.setObjectName("retrieveButton")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("retrieveCancel")
        self.progress = QProgressBar()
        self.progress.setObjectName("retrieveProgress")
        self.progress.setTextVisible(False)  # empty until a retrieve starts (keeps the row's layout)
        self.progress.setValue(0)
        self.status = StatusLabel("queryStatus")
        top = QFormLayout()
        top.addRow("PACS node", self.node_combo)
        actions = QHBoxLayout()
        actions.addWidget(QLabel("Retrieve by"))
        actions.addWidget(self.via)
        actions.addWidget(self.retrieve_button)
        actions.addWidget(self.progress, 1)
        actions.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(fields)
        layout.addWidget(self.results, 1)
        layout.addLayout(actions)
        layout.addWidget(self.status)
        self.search_button.clicked.connect(self.search)
        self.retrieve_button.clicked.connect(self.retrieve_selected)
        self.cancel_button.clicked.connect(self.cancel)
        self.results.itemExpanded.connect(self._expanded)
        self.results.itemSelectionChanged.connect(self._selection_changed)
        self.node_combo.currentIndexChanged.connect(self._node_changed)
        self._set_busy(False)
        self.resize(1100, 640)

    def load_nodes(self) -> None:
        problem = self.node_combo.load(self.store)
        if problem:
            self.status.say(problem, error=True)
        self._node_changed()

    @property
    def nodes(self) -> list[Node]:
        return self.node_combo.nodes

    @property
    def node(self) -> Node | None:
        return self.node_combo.node

    def _node_changed(self, *_args: Any) -> None:
        self.via.clear()
        if isinstance(self.node, DimseNode):
            self.via.addItem("C-GET", "get")
            self.via.addItem("C-MOVE", "move")
        elif self.node is not None:
            self.via.addItem("WADO-RS", "wado")
        self._set_busy(False)

    # ---- search --------------------------------------------------------------------------------
    def query(self) -> StudyQuery:
        """The search keys from the fields (ValueError naming a wrong date)."""
        return StudyQuery(patient_name=self.patient_name.text().strip(), patient_id=self.patient_id.text().strip(),
                          date_from=parse_date(self.date_from.text(), "Study date from"),
                          date_to=parse_date(self.date_to.text(), "Study date to"),
                          modality=self.modality.currentText().strip().upper(),
                          accession=self.accession.text().strip(), description=self.description.text().strip())

    def _start(self, task: NetTask) -> NetTask:
        self.tasks.append(task)
        return task.start()

    def search(self) -> None:
        node = self.node
        if node is None or self.busy:
            return
        try:
            query = self.query()
        except ValueError as exc:
            self.status.say(str(exc), error=True)
            return
        if not ensure_secret(self, node):
            self.status.say("Search cancelled: no password or token given.", error=True)
            return
        self._generation += 1
        self.results.clear()
        self.studies = []
        task = NetTask(client.find_studies, node, query, parent=self)
        task.finished.connect(self._found_studies)
        task.failed.connect(lambda message: self._done(f"Search failed: {message}", True))
        task.cancelled.connect(lambda: self._done("Search cancelled.", False))
        self.search_task = self._start(task)
        self._set_busy(True)
        self.status.say(f"Searching {node.name}...")

    def _found_studies(self, studies: list[StudyRecord]) -> None:
        self.studies = list(studies)
        for record in self.studies:
            item = QTreeWidgetItem([record.patient_name.replace("^", " ").strip(), record.patient_id,
                                    _da(record.birth_date), _da(record.study_date), record.description,
                                    record.accession, "/".join(record.modalities), _count(record.n_series),
                                    _count(record.n_instances)])
            item.setData(0, _UID_ROLE, record.study_uid)
            item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
            self.results.addTopLevelItem(item)
        first = self.results.topLevelItem(0)
        if first is not None:
            self.results.setCurrentItem(first)
        n = len(self.studies)
        self._done(f"{n} stud{'y' if n == 1 else 'ies'} found on {self.node.name if self.node else '?'}.", False)

    # ---- series --------------------------------------------------------------------------------
    def _study_item(self) -> QTreeWidgetItem | None:
        item = self.results.currentItem()
        while item is not None and item.parent() is not None:
            item = item.parent()
        return item

    def _selection_changed(self) -> None:
        item = self._study_item()
        if item is not None:
            self._load_series(item)
        self._set_busy(self.busy)

    def _expanded(self, item: QTreeWidgetItem) -> None:
        if item.parent() is None:
            self._load_series(item)

    def _load_series(self, item: QTreeWidgetItem) -> None:
        node = self.node
        if node is None or item.data(1, _UID_ROLE) is not None:  # asked already
            return
        item.setData(1, _UID_ROLE, "asked")
        study_uid = str(item.data(0, _UID_ROLE))
        task = NetTask(client.find_series, node, study_uid, parent=self)
        gen = self._generation
        task.finished.connect(lambda series, it=item: self._found_series(it, series) if gen == self._generation else None)
        task.failed.connect(lambda message, it=item: self._series_failed(it, message) if gen == self._generation else None)
        self._start(task)

    def _found_series(self, item: QTreeWidgetItem, series: list[SeriesRecord]) -> None:
        for s in sorted(series, key=lambda r: (r.number is None, r.number or 0)):
            child = QTreeWidgetItem(["", "", "", "", f"{'' if s.number is None else f'#{s.number} '}{s.description}",
                                     "", s.modality, "", _count(s.n_instances)])
            child.setData(0, _UID_ROLE, s.series_uid)
            item.addChild(child)
        if not series:
            item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.DontShowIndicator)

    def _series_failed(self, item: QTreeWidgetItem, message: str) -> None:
        item.setData(1, _UID_ROLE, None)  # may be asked again
        self.status.say(f"Series not listed: {message}", error=True)

    # ---- retrieve ------------------------------------------------------------------------------
    def selected_study(self) -> StudyRecord | None:
        item = self._study_item()
        if item is None:
            return None
        uid = str(item.data(0, _UID_ROLE))
        return next((s for s in self.studies if s.study_uid == uid), None)

    def retrieve_selected(self) -> None:
        node, study = self.node, self.selected_study()
        if node is None or study is None or self.busy:
            return
        if not ensure_secret(self, node):
            self.status.say("Retrieve cancelled: no password or token given.", error=True)
            return
        dest = (self.dest_root or retrieve_root()) / "".join(ch if ch.isalnum() or ch in "-_." else "_"
                                                             for ch in node.name)
        total = study.n_instances
        self.progress.setRange(0, total or 0)  # busy indicator while the total is unknown
        self.progress.setValue(0)
        self.progress.setFormat(f"0 of {_count(total)} instances, 0.0 MB")
        self.progress.setTextVisible(True)
        task = NetTask(client.retrieve_study, node, study.study_uid, dest, via=self.via.currentData(),
                       with_progress=True, parent=self)
        task.progress.connect(self._retrieve_progress)
        task.finished.connect(lambda result, n=node: self._retrieved(n, result))
        task.failed.connect(lambda message: self._done(f"Retrieve failed: {message}", True))
        task.cancelled.connect(lambda: self._done("Retrieve cancelled.", False))
        self.retrieve_task = self._start(task)
        self._set_busy(True)
        self.status.say(f"Retrieving {study.description or study.study_uid} from {node.name}...")

    def _retrieve_progress(self, p: RetrieveProgress) -> None:
        total = p.instances_total
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(min(p.instances_done, total))
        series = f", series {p.series_done} of {_count(p.series_total)}" if p.series_total else ""
        self.progress.setFormat(f"{p.instances_done} of {_count(total)} instances, {_mb(p.bytes_done)}{series}")

    def _retrieved(self, node: Node, result: RetrieveResult) -> None:
        self.last_result = result
        if result.complete:
            self.progress.setRange(0, max(1, len(result.files)))
            self.progress.setValue(max(1, len(result.files)))
        text = (f"Retrieved {len(result.files)} instance(s) from {node.name} into {result.folder}." if result.complete
                else f"Retrieve from {node.name} {result.message}. What arrived is kept in {result.folder}.")
        self._done(text, not result.complete)
        if result.files:
            self.retrieved.emit(node, result)

    # ---- state ---------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return any(t.running for t in (self.search_task, self.retrieve_task) if t is not None)

    def cancel(self) -> None:
        for task in (self.search_task, self.retrieve_task):
            if task is not None and task.running:
                task.cancel()
                self.status.say("Cancelling...")

    def _done(self, text: str, error: bool) -> None:
        self.status.say(text, error)
        self._set_busy(self.busy)

    def _set_busy(self, busy: bool) -> None:
        has_node = self.node is not None
        self.search_button.setEnabled(has_node and not busy)
        self.retrieve_button.setEnabled(has_node and not busy and self.selected_study() is not None)
        self.cancel_button.setEnabled(busy)
        self.node_combo.setEnabled(not busy)

    def done(self, result: int) -> None:  # closing the dialog stops what it started
        self.cancel()
        super().done(result)
