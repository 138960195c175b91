"""What Help > About shows (Qt-free): version, build, ruleset version, intended use, and the
bundled components with their licences read from the installed package metadata."""

from __future__ import annotations

import json
import platform
import re
from dataclasses import dataclass
from importlib import metadata

from app import __version__

INTENDED_USE = ("Isthmus is decision support for clinicians reviewing lumbar spine imaging; it is not a "
                "diagnosis and not a certified medical device. Every suggestion must be checked by the "
                "responsible clinician against the images and the patient.")
UNKNOWN_LICENCE = "unknown (not stated in the package metadata)"
SOURCE_BUILD = "not a packaged build (running from source)"


@dataclass(frozen=True)
class Component:
    name: str
    version: str
    licence: str


def _build_json() -> tuple[dict, str]:
    """(contents of the bundle's resources/build_info.json, problem); ({}, "") from source."""
    from app.core.paths import resource

    path = resource("build_info.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, ""
    except (OSError, ValueError) as exc:
        return {}, f"{path} unreadable: {exc}"
    return (data, "") if isinstance(data, dict) else ({}, f"{path} is not a JSON object")


def build_info() -> dict[str, str]:
    """version, build_date, commit: from the bundle's resources/build_info.json (written by
    packaging/isthmus.spec); from source the build date says so."""
    data, problem = _build_json()
    info = {"version": __version__, "build_date": f"unknown ({problem})" if problem else SOURCE_BUILD,
            "commit": "unknown"}
    info.update({k: str(v) for k, v in data.items() if k in info and v})
    return info


def _left_out() -> list[str]:
    """Distributions the bundle leaves out on purpose (build_info.json "left_out")."""
    names = _build_json()[0].get("left_out")
    return [str(n) for n in names] if isinstance(names, list) else []


def ruleset_version() -> str:
    """'<id> <version> (effective <date>)', or why it is unknown."""
    try:
        from app.pathway import load_ruleset

        rs = load_ruleset()
    except Exception as exc:
        return f"unknown (the pathway ruleset did not load: {exc})"
    effective = f" (effective {rs.effective_date})" if getattr(rs, "effective_date", "") else ""
    return f"{rs.id} {rs.version}{effective}"


def _licence(meta) -> str:
    expr = (meta.get("License-Expression") or "").strip()
    if expr:
        return expr
    text = (meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 80:
        return text
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or []
                   if c.startswith("License ::")]
    if classifiers:
        return " / ".join(classifiers)
    return text.splitlines()[0][:80] if text else UNKNOWN_LICENCE


def _requirement_name(req: str) -> str | None:
    """Distribution name of a requirement, None when its marker excludes it here (extras too)."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        r = Requirement(req)
    except InvalidRequirement:
        return None
    if r.marker is not None and not r.marker.evaluate({"extra": ""}):
        return None
    return r.name


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def bundled_components(root: str = "isthmus") -> list[Component]:
    """Every installed distribution ``root`` depends on (transitively, without extras), sorted by
    name, plus the Python runtime; without those a bundle leaves out on purpose. A dependency whose
    metadata is missing is listed as unknown."""
    seen: dict[str, Component] = {}
    left_out = {_key(n) for n in _left_out()}
    todo = [root]
    while todo:
        name = todo.pop()
        if _key(name) in seen or _key(name) in left_out:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            seen[_key(name)] = Component(name, "unknown", "unknown (package metadata not found)")
            continue
        meta = dist.metadata
        seen[_key(name)] = Component(meta.get("Name") or name, dist.version, _licence(meta))
        todo += [n for n in (_requirement_name(r) for r in dist.requires or []) if n]
    seen.pop(_key(root), None)
    out = sorted(seen.values(), key=lambda c: c.name.lower())
    out.append(Component("Python", platform.python_version(), "PSF-2.0"))
    return out
