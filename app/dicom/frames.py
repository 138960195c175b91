"""Split an enhanced multi-frame object that holds several stacks into separately loadable stacks.

An enhanced MR/CT object can carry several echoes, magnitude and phase, several b-values or
several stacks in one file; their frames share positions. Taken together they used to become
one stack with the "duplicates" dropped, so only the first stack was reachable. When frame
positions repeat (or orientations differ), the frames are grouped by the first cue that leaves
no repeated position inside a group: orientation, StackID, FrameType, echo time, diffusion b-value
and direction, temporal position index, all of these together, and finally the
DimensionIndexValues without the in-stack position. Each group becomes a record whose
InstanceHeader lists its frames (``frame_numbers``, 1-based) for the loader."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from app.dicom.headers import functional

Record = tuple[Any, Any]  # (InstanceHeader, header dataset)
Part = tuple[list[Record], str]

_POSITION_POINTERS = {0x00209057, 0x00200032}  # InStackPositionNumber, ImagePositionPatient


def _rounded(value: Any, n: int, digits: int = 2) -> tuple | None:
    try:
        vals = tuple(round(float(v), digits) for v in value)
    except (TypeError, ValueError):
        return None
    return vals if len(vals) == n else None


def _scalar(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v).strip() for v in value)
    try:
        return round(float(value), 3)
    except (TypeError, ValueError):
        return str(value).strip()


def _diffusion(ds: Any, f: int) -> Any:
    b = functional(ds, "MRDiffusionSequence", "DiffusionBValue", f)
    if b is None:
        return None
    direction = functional(ds, "MRDiffusionSequence", "DiffusionGradientDirectionSequence", f)
    vec = None
    if direction:
        vec = _rounded(direction[0].get("DiffusionGradientOrientation"), 3, 3)
    return (_scalar(b), vec)


def _frame_type(ds: Any, f: int) -> Any:
    for seq in ("MRImageFrameTypeSequence", "CTImageFrameTypeSequence"):
        value = functional(ds, seq, "FrameType", f)
        if value is not None:
            return _scalar(value)
    return None


def _cues(ds: Any) -> list[tuple[str, Callable[[int], Any]]]:
    return [
        ("orientation", lambda f: _rounded(functional(ds, "PlaneOrientationSequence", "ImageOrientationPatient", f), 6)),
        ("stack", lambda f: _scalar(functional(ds, "FrameContentSequence", "StackID", f))),
        ("frame type", lambda f: _frame_type(ds, f)),
        ("echo time", lambda f: _scalar(functional(ds, "MREchoSequence", "EffectiveEchoTime", f))),
        ("b-value", lambda f: _diffusion(ds, f)),
        ("temporal index", lambda f: _scalar(functional(ds, "FrameContentSequence", "TemporalPositionIndex", f))),
    ]


def _dimension_key(ds: Any) -> Callable[[int], Any] | None:
    """DimensionIndexValues without the component that is the in-stack position."""
    index = ds.get("DimensionIndexSequence")
    if not index:
        return None
    drop = {i for i, item in enumerate(index) if int(item.get("DimensionIndexPointer", 0) or 0) in _POSITION_POINTERS}
    if not drop:
        return None

    def key(f: int) -> Any:
        values = functional(ds, "FrameContentSequence", "DimensionIndexValues", f)
        if values is None:
            return None
        values = [values] if isinstance(values, int) else list(values)
        return tuple(v for i, v in enumerate(values) if i not in drop)
    return key


def _label(word: str, value: Any) -> str:
    if word == "b-value" and isinstance(value, tuple):
        b, vec = value
        return f"b-value {b}" + (f" direction {vec}" if vec else "")
    if word == "echo time":
        return f"echo time {value} ms"
    return f"{word} {value if value is not None else 'none'}"


def _groups(n: int, key: Callable[[int], Any], positions: list) -> dict | None:
    groups: dict[Any, list[int]] = defaultdict(list)
    for f in range(n):
        groups[key(f)].append(f)
    if len(groups) <= 1:
        return None
    for frames in groups.values():
        seen = [positions[f] for f in frames if positions[f] is not None]
        if len(seen) != len(set(seen)):
            return None
    return groups


def _needs_split(positions: list, orientations: list) -> bool:
    known = [p for p in positions if p is not None]
    return len(known) != len(set(known)) or len({o for o in orientations if o is not None}) > 1


def split_frames(members: list[Record]) -> list[Part]:
    """Parts of a one-record group holding an enhanced multi-frame object with several stacks;
    ``[(members, "")]`` otherwise."""
    if len(members) != 1 or members[0][0].number_of_frames <= 1 or members[0][0].frame_numbers:
        return [(members, "")]
    header, ds = members[0]
    if ds.get("PerFrameFunctionalGroupsSequence") is None:
        return [(members, "")]
    n = min(header.number_of_frames, len(ds.get("PerFrameFunctionalGroupsSequence")))
    positions = [_rounded(functional(ds, "PlanePositionSequence", "ImagePositionPatient", f), 3) for f in range(n)]
    cues = _cues(ds)
    orientations = [cues[0][1](f) for f in range(n)]
    if not _needs_split(positions, orientations):
        return [(members, "")]
    cue_values = {word: [fn(f) for f in range(n)] for word, fn in cues}
    tries: list[tuple[str, Callable[[int], Any]]] = [(w, cue_values[w].__getitem__) for w, _ in cues]
    tries.append(("frames", lambda f: tuple(cue_values[w][f] for w, _ in cues)))
    dim = _dimension_key(ds)
    if dim is not None:
        tries.append(("dimension index", dim))
    for word, key in tries:
        groups = _groups(n, key, positions)
        if groups is None:
            continue
        parts: list[Part] = []
        for value, frames in sorted(groups.items(), key=lambda kv: kv[1][0]):
            sub = dataclasses.replace(
                header, frame_numbers=tuple(f + 1 for f in frames),
                image_position_lps=positions[frames[0]] and tuple(
                    float(v) for v in functional(ds, "PlanePositionSequence", "ImagePositionPatient", frames[0])),
                image_orientation=(tuple(float(v) for v in orientations[frames[0]])
                                   if orientations[frames[0]] is not None else header.image_orientation))
            label = _label(word, value) if word != "frames" else f"frame group {len(parts) + 1}"
            parts.append(([(sub, ds)], label))
        return parts
    return [(members, "")]
