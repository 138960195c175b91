"""PACS nodes: DIMSE (AE title, host, port) and DICOMweb (URL, auth), inline addresses, the nodes file.

The nodes file (``user_data_dir()/pacs_nodes.json``) never holds a password or token: those
live in the keyring (app.net.credentials).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from app.core.atomic import write_text_atomic
from app.core.paths import user_data_dir
from app.net.errors import NodeConfigError

AuthKind = Literal["none", "basic", "bearer"]
_AET_RE = re.compile(r"^[\x20-\x7e]{1,16}$")


@dataclass(frozen=True)
class DimseNode:
    name: str
    called_aet: str
    host: str
    port: int
    calling_aet: str = "ISTHMUS"
    timeout_s: float = 30.0
    retrieve_port: int = 0  # 0 = a free port for C-MOVE's storage SCP
    retrieve_interface: str = "127.0.0.1"

    def __post_init__(self) -> None:
        for label, aet in (("called AE title", self.called_aet), ("calling AE title", self.calling_aet)):
            if not _AET_RE.match(aet) or aet.strip() == "" or "\\" in aet:
                raise NodeConfigError(f"node {self.name!r}: {label} {aet!r} must be 1-16 printable characters", self.name)
        if not 0 < self.port < 65536 or not 0 <= self.retrieve_port < 65536:
            raise NodeConfigError(f"node {self.name!r}: port must be 1-65535", self.name)
        if self.timeout_s <= 0:
            raise NodeConfigError(f"node {self.name!r}: timeout must be positive", self.name)


@dataclass(frozen=True)
class WebNode:
    name: str
    url: str
    auth: AuthKind = "none"
    username: str = ""
    verify_tls: bool = True
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise NodeConfigError(f"node {self.name!r}: {self.url!r} is not an http(s) URL", self.name)
        if self.auth not in ("none", "basic", "bearer"):
            raise NodeConfigError(f"node {self.name!r}: auth must be none, basic or bearer, not {self.auth!r}", self.name)
        if self.timeout_s <= 0:
            raise NodeConfigError(f"node {self.name!r}: timeout must be positive", self.name)


Node = DimseNode | WebNode


def parse_node_address(text: str, own_aet: str = "ISTHMUS") -> Node:
    """``dicom://AET@host:port`` or ``dicomweb+http(s)://host:port/path`` as an unnamed node."""
    parts = urlsplit(text.strip())
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme == "dicom":
        if not parts.username or not parts.hostname or port is None:
            raise NodeConfigError(f"{text!r}: a DICOM address is dicom://AET@host:port")
        return DimseNode(name=f"{parts.username}@{parts.hostname}:{port}", called_aet=parts.username,
                         host=parts.hostname, port=port, calling_aet=own_aet)
    if parts.scheme in ("dicomweb+http", "dicomweb+https"):
        if not parts.hostname:
            raise NodeConfigError(f"{text!r}: a DICOMweb address is dicomweb+http(s)://host:port/path")
        url = parts._replace(scheme=parts.scheme.removeprefix("dicomweb+")).geturl().rstrip("/")
        return WebNode(name=text, url=url)
    raise NodeConfigError(f"{text!r} is not a node address (dicom://AET@host:port or dicomweb+http(s)://host:port/path)")


def _to_json(node: Node) -> dict[str, object]:
    kind = "dimse" if isinstance(node, DimseNode) else "dicomweb"
    return {"kind": kind, **asdict(node)}


def _from_json(item: object, where: Path) -> Node:
    if not isinstance(item, dict):
        raise NodeConfigError(f"{where}: each node must be a JSON object")
    kind = item.get("kind")
    cls: type[DimseNode] | type[WebNode] = DimseNode if kind == "dimse" else WebNode
    if kind not in ("dimse", "dicomweb"):
        raise NodeConfigError(f"{where}: node kind must be 'dimse' or 'dicomweb', not {kind!r}")
    allowed = {f.name for f in fields(cls)}
    try:
        return cls(**{k: v for k, v in item.items() if k in allowed})
    except TypeError as exc:
        raise NodeConfigError(f"{where}: node {item.get('name')!r}: {exc}") from None


class NodeStore:
    """The configured nodes, as JSON in the user data folder (no secrets in it)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else user_data_dir() / "pacs_nodes.json"

    def load(self) -> list[Node]:
        if not self.path.exists():
            return []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise NodeConfigError(f"{self.path}: cannot read the PACS nodes file ({exc})") from None
        items = data.get("nodes") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise NodeConfigError(f"{self.path}: no 'nodes' list in the PACS nodes file")
        return [_from_json(item, self.path) for item in items]

    def save(self, nodes: list[Node]) -> None:
        names = [n.name for n in nodes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise NodeConfigError(f"two nodes are named {', '.join(map(repr, dupes))}")
        text = json.dumps({"format": "isthmus-pacs-nodes", "version": 1, "nodes": [_to_json(n) for n in nodes]},
                          indent=2)
        write_text_atomic(self.path, text + "\n")

    def get(self, name: str) -> Node:
        for node in self.load():
            if node.name == name:
                return node
        raise NodeConfigError(f"no PACS node named {name!r} (configured: "
                              f"{', '.join(n.name for n in self.load()) or 'none'})", name)

    def put(self, node: Node) -> None:
        """Add the node, or replace the one of the same name."""
        self.save([n for n in self.load() if n.name != node.name] + [node])

    def remove(self, name: str) -> None:
        nodes = self.load()
        if not any(n.name == name for n in nodes):
            raise NodeConfigError(f"no PACS node named {name!r}", name)
        self.save([n for n in nodes if n.name != name])


def resolve_node(text: str, own_aet: str = "ISTHMUS", store: NodeStore | None = None) -> Node:
    """A configured node name, or an inline address."""
    if "://" in text:
        return parse_node_address(text, own_aet)
    return (store or NodeStore()).get(text)
