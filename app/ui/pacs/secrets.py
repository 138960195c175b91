"""Ask for a DICOMweb node's password or token once per run when the keyring has none."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QLineEdit, QWidget

from app.net import credentials
from app.net.nodes import Node, WebNode


def needs_secret(node: Node) -> bool:
    return isinstance(node, WebNode) and node.auth != "none" and credentials.secret_for_run(node.name) is None


def ensure_secret(parent: QWidget | None, node: Node) -> bool:
    """True when the node can be used (no secret needed, one is known, or the user typed one)."""
    if not needs_secret(node):
        return True
    assert isinstance(node, WebNode)
    what = "password" if node.auth == "basic" else "token"
    user = f" for {node.username}" if node.username and node.auth == "basic" else ""
    secret, ok = QInputDialog.getText(parent, f"{node.name}: {what}", f"The {what}{user} on {node.url}:",
                                      QLineEdit.EchoMode.Password)
    if not ok or not secret:
        return False
    credentials.set_secret(node.name, secret)
    return True
