"""Parse a big findings file in pieces, so the thread reading it lets the GUI thread run.

A JSON parser is one C call that holds the GIL for the whole text (about 0.2-0.4 s for 10 MB):
a worker thread reading the file would freeze the GUI that long. A findings file's bulk is its
point arrays (``"points_px": [[x, y], ...]`` of the annotations behind the findings), so
``loads_in_pieces`` cuts each such array out of the text, parses the small rest, then parses
the arrays one by one (each a short C call; the GIL can pass to the GUI between them).

Only an exact array of flat arrays after a ``"points_px"`` / ``"points_lps"`` key is cut out,
and the placeholders must all come back exactly once; anything else (invalid JSON, an
unexpected shape) returns None and the caller parses the text whole, as before.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

_FLAT = r"\[[^\[\]\"]*\]"
_POINT_ARRAY = re.compile(r'([{,]\s*"(points_px|points_lps)"\s*:\s*)(\[\s*(?:' + _FLAT + r"\s*(?:,\s*" + _FLAT
                          + r"\s*)*)?\])")
_TAG = "\u0000isthmus-points:"  # a placeholder as parsed (written escaped: \\u0000 in the JSON text)


def loads_in_pieces(text: str, loads: Callable[[str], Any] = json.loads) -> Any | None:
    """The parsed document, or None when the text is not cut that way (parse it whole)."""
    arrays: list[str] = []

    def cut(match: re.Match[str]) -> str:
        arrays.append(match.group(3))
        return f'{match.group(1)}"\\u0000isthmus-points:{len(arrays) - 1}"'

    skeleton = _POINT_ARRAY.sub(cut, text)
    if not arrays:
        return None
    try:
        doc = loads(skeleton)
    except ValueError:
        return None
    used = [False] * len(arrays)
    try:
        _put_back(doc, arrays, used, loads)
    except (ValueError, IndexError, RecursionError):
        return None
    return doc if all(used) else None


def _put_back(value: Any, arrays: list[str], used: list[bool], loads: Callable[[str], Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and item.startswith(_TAG) and key in ("points_px", "points_lps"):
                i = int(item[len(_TAG):])
                if used[i]:
                    raise ValueError("a point array placeholder appears twice")
                used[i] = True
                value[key] = loads(arrays[i])
            else:
                _put_back(item, arrays, used, loads)
    elif isinstance(value, list):
        for item in value:
            _put_back(item, arrays, used, loads)
