"""File > PACS nodes...: list, add, edit and remove DIMSE and DICOMweb nodes, each with a Test button.

Nodes are kept by app.net.nodes.NodeStore (JSON, no secrets); a password or token goes to
app.net.credentials (the system keyring, or this run's memory when no keyring works; the dialog
says which). Test runs ``client.echo`` in a worker and shows the answer time or the plain error.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.net import client, credentials
from app.net.errors import NetError
from app.net.nodes import DimseNode, Node, NodeStore, WebNode
from app.ui.pacs.tasks import NetTask
from app.ui.pacs.widgets import StatusLabel, describe_node

AUTH_KINDS = ("none", "basic", "bearer")


def _line(name: str, text: str = "") -> QLineEdit:
    edit = QLineEdit(text)
    edit.setObjectName(name)
    return edit


def _spin(name: str, lo: int, hi: int, value: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setObjectName(name)
    spin.setRange(lo, hi)
    spin.setValue(value)
    return spin


def _seconds(name: str, value: float) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setObjectName(name)
    spin.setRange(1.0, 600.0)
    spin.setSuffix(" s")
    spin.setValue(value)
    return spin


class _DimseForm(QWidget):
    def __init__(self) -> None:
        super().__init__()
        form = QFormLayout(self)
        self.name, self.called_aet = _line("dimseName"), _line("dimseCalledAet")
        self.host, self.port = _line("dimseHost", "127.0.0.1"), _spin("dimsePort", 1, 65535, 104)
        self.calling_aet = _line("dimseCallingAet", "ISTHMUS")
        self.retrieve_port = _spin("dimseRetrievePort", 0, 65535, 0)
        self.retrieve_port.setSpecialValueText("any free port")
        self.timeout = _seconds("dimseTimeout", 30.0)
        for label, widget in (("Name", self.name), ("PACS AE title (called)", self.called_aet), ("Host", self.host),
                              ("Port", self.port), ("Isthmus AE title (calling)", self.calling_aet),
                              ("C-MOVE storage port", self.retrieve_port), ("Timeout", self.timeout)):
            form.addRow(label, widget)

    def set_node(self, node: DimseNode) -> None:
        self.name.setText(node.name)
        self.called_aet.setText(node.called_aet)
        self.host.setText(node.host)
        self.port.setValue(node.port)
        self.calling_aet.setText(node.calling_aet)
        self.retrieve_port.setValue(node.retrieve_port)
        self.timeout.setValue(node.timeout_s)

    def node(self, original: DimseNode | None) -> DimseNode:
        interface = original.retrieve_interface if original is not None else "127.0.0.1"
        return DimseNode(name=self.name.text().strip(), called_aet=self.called_aet.text().strip(),
                         host=self.host.text().strip(), port=self.port.value(),
                         calling_aet=self.calling_aet.text().strip(), timeout_s=self.timeout.value(),
                         retrieve_port=self.retrieve_port.value(), retrieve_interface=interface)


class _WebForm(QWidget):
    def __init__(self) -> None:
        super().__init__()
        form = QFormLayout(self)
        self.name, self.url = _line("webName"), _line("webUrl", "https://")
        self.auth = QComboBox()
        self.auth.setObjectName("webAuth")
        self.auth.addItems(list(AUTH_KINDS))
        self.username = _line("webUsername")
        self.secret = _line("webSecret")
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.verify_tls = QCheckBox("Verify the server's TLS certificate")
        self.verify_tls.setObjectName("webVerifyTls")
        self.verify_tls.setChecked(True)
        self.timeout = _seconds("webTimeout", 30.0)
        for label, widget in (("Name", self.name), ("DICOMweb URL", self.url), ("Authentication", self.auth),
                              ("User name", self.username), ("Password or token", self.secret), ("", self.verify_tls),
                              ("Timeout", self.timeout)):
            form.addRow(label, widget)
        self.auth.currentTextChanged.connect(self._auth_changed)
        self._auth_changed(self.auth.currentText())

    def _auth_changed(self, kind: str) -> None:
        self.username.setEnabled(kind == "basic")
        self.secret.setEnabled(kind != "none")

    def set_node(self, node: WebNode) -> None:
        self.name.setText(node.name)
        self.url.setText(node.url)
        self.auth.setCurrentText(node.auth)
        self.username.setText(node.username)
        self.verify_tls.setChecked(node.verify_tls)
        self.timeout.setValue(node.timeout_s)
        self.secret.clear()
        known = credentials.secret_for_run(node.name) is not None
        self.secret.setPlaceholderText("(known; type to replace)" if known else "(none stored: type it here)")

    def node(self) -> WebNode:
        auth = self.auth.currentText()
        return WebNode(name=self.name.text().strip(), url=self.url.text().strip().rstrip("/"),
                       auth=auth,  # type: ignore[arg-type]  # one of AUTH_KINDS
                       username=self.username.text().strip() if auth == "basic" else "",
                       verify_tls=self.verify_tls.isChecked(), timeout_s=self.timeout.value())


class PacsNodesDialog(QDialog):
    """The configured PACS nodes; every change is written to the nodes file at once."""

    def __init__(self, store: NodeStore | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("PACS nodes")
        self.store = store or NodeStore()
        self.nodes: list[Node] = []
        self.editing: Node | None = None  # the saved node shown in the form (None: a new one)
        self.task: NetTask | None = None
        self.node_list = QListWidget()
        self.node_list.setObjectName("nodeList")
        self.dimse_form, self.web_form = _DimseForm(), _WebForm()
        self.forms = QStackedWidget()
        self.forms.addWidget(self.dimse_form)
        self.forms.addWidget(self.web_form)
        self.status = StatusLabel("nodeStatus")
        self.add_dimse_button = QPushButton("Add DIMSE node")
        self.add_web_button = QPushButton("Add DICOMweb node")
        self.remove_button = QPushButton("Remove")
        self.save_button = QPushButton("Save node")
        self.test_button = QPushButton("Test")
        self.close_button = QPushButton("Close")
        left = QVBoxLayout()
        left.addWidget(self.node_list)
        for b in (self.add_dimse_button, self.add_web_button, self.remove_button):
            left.addWidget(b)
        right = QVBoxLayout()
        right.addWidget(self.forms)
        row = QHBoxLayout()
        for b in (self.test_button, self.save_button):
            row.addWidget(b)
        right.addLayout(row)
        right.addWidget(self.status)
        right.addStretch(1)
        right.addWidget(self.close_button)
        top = QHBoxLayout(self)
        top.addLayout(left, 1)
        top.addLayout(right, 2)
        self.node_list.currentRowChanged.connect(self._row_changed)
        self.add_dimse_button.clicked.connect(lambda: self.new_node("dimse"))
        self.add_web_button.clicked.connect(lambda: self.new_node("dicomweb"))
        self.remove_button.clicked.connect(self.remove_current)
        self.save_button.clicked.connect(self.save_current)
        self.test_button.clicked.connect(self.test_current)
        self.close_button.clicked.connect(self.accept)
        self.resize(820, 460)
        self.reload()

    # ---- list --------------------------------------------------------------------------------
    def reload(self, select: str = "") -> None:
        try:
            self.nodes = self.store.load()
        except NetError as exc:
            self.nodes = []
            self.status.say(f"{exc}. Nodes you save now replace that file.", error=True)
        self.node_list.blockSignals(True)
        self.node_list.clear()
        self.node_list.addItems([describe_node(n) for n in self.nodes])
        self.node_list.blockSignals(False)
        names = [n.name for n in self.nodes]
        if names:
            self.node_list.setCurrentRow(names.index(select) if select in names else 0)
        else:
            self.new_node("dimse")

    def _row_changed(self, row: int) -> None:
        if 0 <= row < len(self.nodes):
            self.show_node(self.nodes[row])

    def show_node(self, node: Node) -> None:
        self.editing = node
        if isinstance(node, DimseNode):
            self.dimse_form.set_node(node)
            self.forms.setCurrentWidget(self.dimse_form)
        else:
            self.web_form.set_node(node)
            self.forms.setCurrentWidget(self.web_form)

    def new_node(self, kind: str) -> None:
        self.editing = None
        self.node_list.clearSelection()
        form: Any = self.dimse_form if kind == "dimse" else self.web_form
        form.name.setText("")
        self.forms.setCurrentWidget(form)
        form.name.setFocus()
        self.status.say(f"New {'DIMSE' if kind == 'dimse' else 'DICOMweb'} node: fill in the fields, then Save node.")

    # ---- form -> node ----------------------------------------------------------------------
    def form_node(self) -> Node:
        """The node the form describes (NetError with the problem when a field is wrong)."""
        if self.forms.currentWidget() is self.dimse_form:
            original = self.editing if isinstance(self.editing, DimseNode) else None
            node: Node = self.dimse_form.node(original)
        else:
            node = self.web_form.node()
        if not node.name:
            raise NetError("give the node a name")
        return node

    def _typed_secret(self, node: Node) -> str:
        return self.web_form.secret.text() if isinstance(node, WebNode) and node.auth != "none" else ""

    def save_current(self) -> bool:
        try:
            node = self.form_node()
            others = [n for n in self.nodes if self.editing is None or n.name != self.editing.name]
            if any(n.name == node.name for n in others):
                raise NetError(f"another node is already named {node.name!r}")
            self.store.save([node if self.editing is not None and n.name == self.editing.name else n
                             for n in self.nodes] + ([node] if self.editing is None else []))
        except (NetError, OSError) as exc:
            self.status.say(f"Not saved: {exc}", error=True)
            return False
        renamed_from = self.editing.name if self.editing is not None and self.editing.name != node.name else ""
        secret = self._typed_secret(node)
        if not secret and renamed_from:
            secret = credentials.secret_for_run(renamed_from) or ""
        if renamed_from:
            credentials.delete_secret(renamed_from)
        note = ""
        if secret:
            in_keyring = credentials.set_secret(node.name, secret)
            note = (" The password/token is in the system keyring." if in_keyring else
                    " No system keyring works here: the password/token is kept for this run only and asked again "
                    "next time.")
        self.reload(select=node.name)
        self.status.say(f"Saved {node.name} (no password or token in the settings file).{note}")
        return True

    def remove_current(self) -> None:
        if self.editing is None:
            return
        name = self.editing.name
        try:
            self.store.remove(name)
        except (NetError, OSError) as exc:
            self.status.say(f"Not removed: {exc}", error=True)
            return
        credentials.delete_secret(name)
        self.reload()
        self.status.say(f"Removed {name}.")

    # ---- test --------------------------------------------------------------------------------
    def test_current(self) -> None:
        try:
            node = self.form_node()
        except NetError as exc:
            self.status.say(f"Cannot test: {exc}", error=True)
            return
        secret = self._typed_secret(node)
        if secret:
            credentials.set_secret(node.name, secret)
        else:
            from app.ui.pacs.secrets import ensure_secret

            if not ensure_secret(self, node):
                self.status.say("Test cancelled: no password or token given.", error=True)
                return
        self.test_button.setEnabled(False)
        self.status.say(f"Testing {node.name}...")
        task = NetTask(client.echo, node, with_cancel=False, parent=self)
        task.finished.connect(lambda seconds: self._tested(node, f"{node.name} answered in {seconds * 1000:.0f} ms.", False))
        task.failed.connect(lambda message: self._tested(node, f"Test failed: {message}", True))
        self.task = task.start()

    def _tested(self, node: Node, text: str, error: bool) -> None:
        self.test_button.setEnabled(True)
        self.status.say(text, error=error)
