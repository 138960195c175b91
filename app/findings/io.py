"""Findings <-> JSON. The document shape is described by resources/schemas/findings.schema.json
and docs/findings-format.md; ``load_findings`` validates before building the model."""

from __future__ import annotations

import dataclasses
import enum
import functools
import itertools
import json
import os
import types
import typing
from pathlib import Path
from typing import Any, Union

from app.core.atomic import write_text_atomic
from app.findings import model as findings_model
from app.findings.migrate import migrate_document

FORMAT_NAME = "isthmus-findings"


class FindingsFileError(Exception):
    """A findings file that cannot be read: names the file and the problem."""

    def __init__(self, path: str | os.PathLike | None, problem: str):
        self.path = None if path is None else Path(path)
        self.problem = problem
        where = f"{self.path}: " if self.path else ""
        super().__init__(f"{where}{problem}")


# --------------------------------------------------------------------------- to plain data

def _plain(value: Any, point_tuples: bool = False) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value):
        out = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            # Empty optional values are left out; a required field is always written.
            if has_default and (v is None or v == () or v == "" or v == {} or v == frozenset()):
                continue
            out[f.name] = _plain(v, point_tuples)
        return out
    if isinstance(value, (frozenset, set)):
        return sorted(_plain(v, point_tuples) for v in value)
    if point_tuples and isinstance(value, tuple) and _is_points_value(value):
        return value  # dumped as the same JSON array; no half a million lists for the collector
    if isinstance(value, (list, tuple)):
        return [_plain(v, point_tuples) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, point_tuples) for k, v in value.items()}
    return value


def _is_points_value(value: tuple) -> bool:
    """An outline's points as the model keeps them (app.vocabulary.as_points: a tuple of tuples
    of floats), checked in C-level passes. ``to_plain`` keeps them: the autosave of a 10 MB
    findings file made ~500,000 two-item lists, and to_plain + json.dumps of its entries took
    2.7-3.0 s (1.8 s CPU, 3 full garbage collections holding the GIL) against 0.46 s (0.34 s
    CPU, none) with the tuples (load average 5)."""
    return (bool(value) and set(map(type, value)) == {tuple}
            and set(map(type, itertools.chain.from_iterable(value))) == {float})


def to_plain(value: Any) -> Any:
    """A findings value (dataclass, enum, tuple, ...) as JSON-able data to dump, as saved; point
    arrays stay the model's tuples (the same JSON text; ``findings_to_dict`` gives lists)."""
    return _plain(value, point_tuples=True)


def findings_to_dict(findings: findings_model.StudyFindings) -> dict:
    body = _plain(findings)
    body.pop("schema_version", None)
    return {"format": FORMAT_NAME, "schema_version": findings.schema_version, **body}


def dumps_findings(findings: findings_model.StudyFindings) -> str:
    return json.dumps(findings_to_dict(findings), indent=2, sort_keys=False) + "\n"


def save_findings(findings: findings_model.StudyFindings, path: str | os.PathLike) -> None:
    write_text_atomic(path, dumps_findings(findings))


# --------------------------------------------------------------------------- from plain data

@functools.cache
def _type_hints(tp: type) -> tuple[dict[str, Any], frozenset[str]]:
    return typing.get_type_hints(tp), frozenset(f.name for f in dataclasses.fields(tp))


@functools.cache
def _is_point_array(tp: Any) -> bool:
    """tuple[tuple[float, ...], ...]: an array of points, handed to the model in one go (it checks
    the points: app.vocabulary.as_points)."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) is not tuple or len(args) != 2 or args[1] is not Ellipsis:
        return False
    inner = typing.get_args(args[0])
    return typing.get_origin(args[0]) is tuple and bool(inner) and all(a is float for a in inner if a is not Ellipsis)


def _build(tp: Any, value: Any) -> Any:
    if isinstance(value, list) and _is_point_array(tp):
        return tuple(value)  # the model converts and checks the points in one pass
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if value is None:
        return None
    if origin is Union or origin is types.UnionType:  # Optional[X] and X | None
        inner = [a for a in args if a is not type(None)]
        return _build(inner[0], value)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise TypeError(f"expected an object for {tp.__name__}, got {type(value).__name__}")
        hints, names = _type_hints(tp)
        unknown = set(value) - names
        if unknown:
            raise ValueError(f"unknown field(s) for {tp.__name__}: {', '.join(sorted(unknown))}")
        return tp(**{k: _build(hints[k], v) for k, v in value.items()})
    if origin in (tuple,):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_build(args[0], v) for v in value)
        if len(value) != len(args):
            raise ValueError(f"expected {len(args)} values, got {len(value)}")
        return tuple(_build(a, v) for a, v in zip(args, value, strict=True))
    if origin in (frozenset, set):
        return frozenset(_build(args[0], v) for v in value)
    if origin is dict or tp is dict:
        return {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def findings_from_dict(doc: dict, path: str | os.PathLike | None = None) -> findings_model.StudyFindings:
    if not isinstance(doc, dict):
        raise FindingsFileError(path, "not a findings document (expected a JSON object)")
    fmt = doc.get("format")
    if fmt != FORMAT_NAME:
        raise FindingsFileError(path, f"not an Isthmus findings file (format is {fmt!r}, expected {FORMAT_NAME!r})")
    version = doc.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise FindingsFileError(path, "schema_version is missing or not an integer")
    if version > findings_model.SCHEMA_VERSION:
        raise FindingsFileError(
            path,
            f"written by a newer Isthmus (findings schema version {version}; this version reads up to "
            f"{findings_model.SCHEMA_VERSION}). Update Isthmus to open it.",
        )
    if version < 1:
        raise FindingsFileError(path, f"schema_version must be 1 or more, got {version}")
    try:
        doc, _ = migrate_document(doc, findings_model.SCHEMA_VERSION)  # older files: new keys stay unknown
    except ValueError as exc:
        raise FindingsFileError(path, f"invalid findings file: {exc}") from exc
    version = findings_model.SCHEMA_VERSION
    from app.findings.schema import validate_document  # local: jsonschema is only needed here

    problems = validate_document(doc)
    if problems:
        raise FindingsFileError(path, "invalid findings file: " + "; ".join(problems[:5]))
    body = {k: v for k, v in doc.items() if k not in ("format", "schema_version")}
    try:
        return _build(findings_model.StudyFindings, {**body, "schema_version": version})
    except (TypeError, ValueError, KeyError) as exc:
        raise FindingsFileError(path, f"invalid findings: {exc}") from exc


PIECES_FROM_CHARS = 1_000_000  # files this big are parsed in pieces (app.findings.json_pieces)


def _parse_json(text: str) -> Any:
    """orjson when installed (about twice as fast on a 10 MB file); it is stricter (no NaN, at
    most 1,024 levels), so whatever it refuses is parsed again by json, whose errors name the
    line and column (and which reads what older Isthmus versions wrote). A big file is parsed
    in pieces first (the GUI thread runs meanwhile); None from that means: parse it whole."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is a dependency; json still reads everything
        return json.loads(text)
    if len(text) >= PIECES_FROM_CHARS:
        from app.findings.json_pieces import loads_in_pieces

        doc = loads_in_pieces(text, orjson.loads)
        if doc is not None:
            return doc
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def loads_findings(text: str, path: str | os.PathLike | None = None) -> findings_model.StudyFindings:
    """Findings from JSON text. Raises only FindingsFileError, whatever the text holds (crafted
    nesting thousands deep included). A big text is read with the cyclic garbage collector
    paused (app.findings.gc_pause: its full collections held the GIL up to half a second)."""
    if len(text) < PIECES_FROM_CHARS:
        return _loads_findings(text, path)
    from app.core.gc_pause import gc_paused

    with gc_paused():
        return _loads_findings(text, path)


def _loads_findings(text: str, path: str | os.PathLike | None) -> findings_model.StudyFindings:
    try:
        doc = _parse_json(text)
    except json.JSONDecodeError as exc:
        raise FindingsFileError(path, f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc
    except RecursionError as exc:
        raise FindingsFileError(path, "not a findings document: the JSON is nested too deeply to read") from exc
    try:
        return findings_from_dict(doc, path)
    except FindingsFileError:
        raise
    except RecursionError as exc:
        raise FindingsFileError(path, "invalid findings file: values nested too deeply") from exc
    except Exception as exc:
        raise FindingsFileError(path, f"invalid findings file ({type(exc).__name__}: {exc})") from exc


def load_findings(path: str | os.PathLike) -> findings_model.StudyFindings:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise FindingsFileError(p, "file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise FindingsFileError(p, f"cannot read the file ({exc})") from exc
    return loads_findings(text, p)


def migrate_findings_file(path: str | os.PathLike) -> int | None:
    """Rewrite an older findings file in the current schema (atomically; new keys stay unknown).
    Returns the version it had, or None when it was already current. FindingsFileError as load."""
    p = Path(path)
    findings = load_findings(p)
    old = json.loads(p.read_text(encoding="utf-8"))["schema_version"]
    if old == findings_model.SCHEMA_VERSION:
        return None
    save_findings(findings, p)
    return old
