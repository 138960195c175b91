"""``json.dumps`` text written in pieces, so a very large value never holds the GIL in one call.

Measured reason (bench/panel_bench.py, issue 16): after a 10 MB findings file is opened, the
autosave thread dumped each big entry (about 2.5 MB of JSON: provenance outlines) with one
``json.dumps`` call, which held the GIL for 100-130 ms at a time, several in a row, and the GUI
event loop stood still meanwhile. Here a list or tuple longer than ``PIECE_ITEMS`` and any dict
holding one are written item by item (each item one short ``json.dumps`` call; the interpreter
hands the GIL over between them); everything else goes to ``json.dumps`` whole. The text is the
same as ``json.dumps(value, allow_nan=...)`` with its default separators (tested)."""

from __future__ import annotations

import json
from typing import Any

PIECE_ITEMS = 256  # longer lists are written item by item


def _big(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return len(value) > PIECE_ITEMS or any(_big(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) for k in value) and any(_big(v) for v in value.values())
    return False


def dumps_in_pieces(value: Any, allow_nan: bool = True) -> str:
    """``json.dumps(value, allow_nan=allow_nan)``, written so no single call runs long."""
    if not _big(value):
        return json.dumps(value, allow_nan=allow_nan)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {dumps_in_pieces(v, allow_nan)}" for k, v in value.items()) + "}"
    return "[" + ", ".join(dumps_in_pieces(v, allow_nan) for v in value) + "]"
