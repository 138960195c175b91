"""The import roots sidecar: a small JSON file beside the database that lets a rebuild find the
studies again after the database itself was lost (link-in-place roots with their source, the
source of each copied study, and the studies the user removed). Written atomically; a damaged
sidecar is read as empty, never raised."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from app.core.atomic import write_text_atomic

_FORMAT = 1


@dataclass
class ImportRoots:
    roots: dict[str, str] = field(default_factory=dict)  # absolute path -> source
    copied_sources: dict[str, str] = field(default_factory=dict)  # study UID -> source (managed copies)
    removed: set[str] = field(default_factory=set)  # study UIDs removed by the user

    @classmethod
    def load(cls, path: Path) -> ImportRoots:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        roots = data.get("roots", {})
        copied = data.get("copied_sources", {})
        removed = data.get("removed", [])
        return cls(
            roots={str(k): str(v) for k, v in roots.items()} if isinstance(roots, dict) else {},
            copied_sources={str(k): str(v) for k, v in copied.items()} if isinstance(copied, dict) else {},
            removed={str(x) for x in removed} if isinstance(removed, list) else set(),
        )

    def save(self, path: Path) -> None:
        data = {"format": _FORMAT, "roots": dict(sorted(self.roots.items())),
                "copied_sources": dict(sorted(self.copied_sources.items())), "removed": sorted(self.removed)}
        write_text_atomic(path, json.dumps(data, indent=1))

    def covering_root(self, path: str) -> str | None:
        """The recorded root that holds ``path`` (itself or a folder above it), else None."""
        for root in self.roots:
            if path == root or path.startswith(root.rstrip(os.sep) + os.sep):
                return root
        return None
