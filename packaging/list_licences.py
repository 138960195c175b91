"""Print the licence of every runtime dependency of isthmus (recursively), from the installed
packages' own metadata: `python packaging/list_licences.py` (docs/licences.md is made from it)."""

from __future__ import annotations

import importlib.metadata as md
import re


def _name(requirement: str) -> str:
    return re.split(r"[ ;<>=!\[~(]", requirement, maxsplit=1)[0]


def licences(root: str = "isthmus") -> dict[str, tuple[str, str]]:
    """package -> (version, licence as declared) for ``root``'s runtime dependencies."""
    seen: dict[str, tuple[str, str]] = {}

    def walk(name: str) -> None:
        key = name.lower().replace("_", "-")
        if key in seen:
            return
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            return
        declared = dist.metadata.get("License-Expression") or dist.metadata.get("License") or ""
        classifiers = [c.split("::")[-1].strip() for c in dist.metadata.get_all("Classifier") or []
                       if c.startswith("License")]
        if not declared or len(declared) >= 60:  # a whole licence text pasted into the field
            declared = ", ".join(classifiers) or declared[:60]
        seen[key] = (dist.version, declared)
        for req in dist.requires or []:
            if "extra ==" not in req:
                walk(_name(req))

    for req in md.requires(root) or []:
        if "extra ==" not in req:
            walk(_name(req))
    return seen


if __name__ == "__main__":
    for package, (version, declared) in sorted(licences().items()):
        print(f"{package}\t{version}\t{declared}")
