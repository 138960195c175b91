"""Small widgets the PACS dialogs share: the node picker and the status line."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLabel

from app.net.errors import NetError
from app.net.nodes import DimseNode, Node, NodeStore

NO_NODES = "No PACS node is configured yet: add one under File > PACS nodes..."


def describe_node(node: Node) -> str:
    if isinstance(node, DimseNode):
        return f"{node.name} — DIMSE {node.called_aet}@{node.host}:{node.port}"
    return f"{node.name} — DICOMweb {node.url}" + (f" ({node.auth})" if node.auth != "none" else "")


class StatusLabel(QLabel):
    """One line of plain words under a dialog; errors in red."""

    def __init__(self, name: str) -> None:
        super().__init__("")
        self.setObjectName(name)
        self.setWordWrap(True)

    def say(self, text: str, error: bool = False) -> None:
        self.setText(text)
        self.setStyleSheet("color: #b00020;" if error else "")


class NodeCombo(QComboBox):
    """The configured nodes to pick from."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.nodes: list[Node] = []

    def load(self, store: NodeStore) -> str:
        """Fill from ``store``; the problem in plain words ("" when there are nodes)."""
        problem = ""
        try:
            self.nodes = store.load()
        except NetError as exc:
            self.nodes, problem = [], str(exc)
        self.clear()
        self.addItems([describe_node(n) for n in self.nodes])
        return problem or ("" if self.nodes else NO_NODES)

    @property
    def node(self) -> Node | None:
        i = self.currentIndex()
        return self.nodes[i] if 0 <= i < len(self.nodes) else None
