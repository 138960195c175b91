"""JSON-schema validation of findings documents (schema in resources/schemas/).

A findings file's bulk is its point arrays (``points_px`` / ``points_lps`` of the annotations
behind each finding: a 10 MB file is almost all freehand outlines). jsonschema walks every
number of them in Python (over a minute for 10 MB), so the point arrays are checked here by a
fast pass of their own (each point a list of exactly 2 or 3 JSON numbers, the schema's
``point_px`` / ``point_lps``) and jsonschema validates the rest of the document with those
arrays emptied. Problems name the JSON path, as jsonschema's do.
"""

from __future__ import annotations

import functools
import json
from itertools import chain
from typing import Any

from app.core.paths import resource

SCHEMA_FILE = "findings.schema.json"
POINT_ARRAYS = {"points_px": 2, "points_lps": 3}  # key -> coordinates per point ($defs point_px / point_lps)
_NUMBER_TYPES = frozenset({int, float})


@functools.lru_cache(maxsize=1)
def load_schema() -> dict:
    return json.loads(resource("schemas", SCHEMA_FILE).read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema  # local: only needed when a findings file is read

    return jsonschema.Draft202012Validator(load_schema())


def validate_document(doc: dict) -> list[str]:
    """Plain-language problems found in ``doc`` (empty when valid)."""
    point_problems: list[str] = []
    light = _without_point_arrays(doc, (), point_problems)
    problems = []
    for err in sorted(_validator().iter_errors(light), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in err.absolute_path) or "(document)"
        problems.append(f"{where}: {err.message}")
    return point_problems + problems


def _without_point_arrays(value: Any, path: tuple, problems: list[str]) -> Any:
    """``value`` with every point array emptied (checked into ``problems`` instead); the
    containers on the way are copied, the caller's document is not changed."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            n = POINT_ARRAYS.get(key)
            if n is not None and isinstance(item, list):
                _check_points(item, n, (*path, key), problems)
                out[key] = []
            else:
                out[key] = _without_point_arrays(item, (*path, key), problems)
        return out
    if isinstance(value, list):
        return [_without_point_arrays(item, (*path, i), problems) for i, item in enumerate(value)]
    return value


def _check_points(points: list, n: int, path: tuple, problems: list[str]) -> None:
    if not points or (set(map(type, points)) == {list} and set(map(len, points)) == {n}
                      and set(map(type, chain.from_iterable(points))) <= _NUMBER_TYPES):
        return
    for i, p in enumerate(points):  # the slow pass only to name the first bad point
        if not (type(p) is list and len(p) == n and all(type(c) in _NUMBER_TYPES for c in p)):
            where = "/".join(str(k) for k in (*path, i))
            problems.append(f"{where}: {p!r} is not a point of {n} numbers")
            return
