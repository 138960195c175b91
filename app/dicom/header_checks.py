"""Plausibility of the attributes that describe an image's pixel layout, checked at scan time.

A file whose Rows, Columns, BitsAllocated, ... are multi-valued, of the wrong type or out of
range is listed as a damaged file with the reason, so no later step meets the odd value (which
used to surface as a TypeError while loading)."""

from __future__ import annotations

from typing import Any

# keyword -> (required, allowed values or None for "any in [low, high]", low, high)
_LAYOUT: dict[str, tuple[bool, frozenset | None, int, int]] = {
    "Rows": (True, None, 1, 65535),
    "Columns": (True, None, 1, 65535),
    "BitsAllocated": (False, frozenset({1, 8, 16, 32, 64}), 0, 0),
    "SamplesPerPixel": (False, frozenset({1, 3, 4}), 0, 0),
    "PixelRepresentation": (False, frozenset({0, 1}), 0, 0),
    "NumberOfFrames": (False, None, 0, 2**31 - 1),  # 0 is seen on single-frame files; read as 1
}


_ABSENT = object()


def _single_int(value: Any) -> tuple[int | None, str]:
    """(the integer, "") or (None, what is wrong with the value)."""
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            shown = ", ".join(str(v) for v in list(value)[:4]) + (", ..." if len(value) > 4 else "")
            return None, f"has {len(value)} values ({shown}); one is expected"
        value = value[0]
    if isinstance(value, bool):
        return None, f"is not a number ({value!r})"
    if isinstance(value, int):
        return value, ""
    if isinstance(value, float):
        return (int(value), "") if value.is_integer() else (None, f"is not a whole number ({value})")
    if isinstance(value, (str, bytes)):
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        text = text.strip().strip("\x00").strip()
        try:
            number = float(text)
        except ValueError:
            return None, f"is not a number ({text[:20]!r})"
        return (int(number), "") if number.is_integer() else (None, f"is not a whole number ({text[:20]})")
    return None, f"has a value of the wrong type ({type(value).__name__})"


def layout_problem(ds: Any) -> str | None:
    """None when the pixel-layout attributes of an image header are usable, else a plain reason."""
    for kw, (required, allowed, low, high) in _LAYOUT.items():
        value = ds.get(kw, _ABSENT)  # one lookup where "in" and get() took two
        if value is _ABSENT:
            if required:
                return f"damaged header: {kw} is missing"
            continue
        if type(value) is int and (value in allowed if allowed is not None else low <= value <= high):
            continue  # the common case
        if value is None or value == "" or value == []:
            if required:
                return f"damaged header: {kw} is empty or cannot be read"
            continue
        number, problem = _single_int(value)
        if number is None:
            return f"damaged header: {kw} {problem}"
        if allowed is not None and number not in allowed:
            return f"damaged header: {kw} is {number} (expected one of {', '.join(map(str, sorted(allowed)))})"
        if allowed is None and not low <= number <= high:
            return f"damaged header: {kw} is {number} (expected {low} to {high})"
    return None
