"""Older findings documents -> the current schema (docs/findings-format.md, "Versioning").

Version 1 -> 2: version 2 only added keys (``read_on`` on pars entries, ``imaging``,
``spinopelvic``, ``instability_measured`` on level findings, ``sex``, ``sport_level`` and
``from_dicom`` in the context) and the ``severe`` neurological deficit. A version-1 document
therefore migrates by leaving every new key out, i.e. unknown / not recorded - never "no".
A version-1 document that already holds a version-2 key is refused (it was not written by a
version-1 Isthmus, so its meaning is unclear).

Version 2 -> 3: version 3 only added ``key_images``; the same rule applies.

Version 3 -> 4: version 4 only added ``amendments`` (the review history); an older file has
none recorded (empty history), and a version-3 file holding the key is refused.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

# where each key added in version 2 lives: "document", "pars", "level", "context"
_ADDED_IN_2: dict[str, frozenset[str]] = {
    "document": frozenset({"imaging", "spinopelvic"}),
    "pars": frozenset({"read_on"}),
    "level": frozenset({"instability_measured"}),
    "context": frozenset({"sex", "sport_level", "from_dicom"}),
}


def _v2_keys_in_v1(doc: dict) -> list[str]:
    found = [k for k in sorted(_ADDED_IN_2["document"]) if k in doc]
    for section, part in (("pars", "pars"), ("levels", "level")):
        entries = doc.get(section)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict):
                found += [f"{section}/{i}/{k}" for k in sorted(_ADDED_IN_2[part]) if k in entry]
    ctx = doc.get("context")
    if isinstance(ctx, dict):
        found += [f"context/{k}" for k in sorted(_ADDED_IN_2["context"]) if k in ctx]
        if ctx.get("neuro_deficit") == "severe":
            found.append("context/neuro_deficit 'severe'")
    return found


def _v1_to_v2(doc: dict) -> dict:
    misplaced = _v2_keys_in_v1(doc)
    if misplaced:
        raise ValueError(f"a version-1 file cannot hold {', '.join(misplaced[:5])} (added in version 2)")
    out = copy.deepcopy(doc)
    out["schema_version"] = 2
    return out


def _only_adds(key: str, version: int) -> Callable[[dict], dict]:
    """The step to ``version`` when that version only added the document key ``key`` (absent in an
    older file = none recorded); an older file already holding ``key`` is refused."""
    def step(doc: dict) -> dict:
        if key in doc:
            raise ValueError(f"a version-{version - 1} file cannot hold {key} (added in version {version})")
        out = copy.deepcopy(doc)
        out["schema_version"] = version
        return out
    return step


_STEPS: dict[int, Callable[[dict], dict]] = {
    1: _v1_to_v2,
    2: _only_adds("key_images", 3),  # marked views
    3: _only_adds("amendments", 4),  # who amended a reviewed read
}


def migrate_document(doc: dict, to_version: int) -> tuple[dict, int | None]:
    """(``doc`` raised to ``to_version``, the version it had when older, else None).
    ValueError naming the problem when a step cannot be applied; the input is not changed."""
    version = doc["schema_version"]
    original = version if version < to_version else None
    while version < to_version:
        step = _STEPS.get(version)
        if step is None:
            raise ValueError(f"no migration from findings schema version {version}")
        doc = step(doc)
        version = doc["schema_version"]
    return doc, original
