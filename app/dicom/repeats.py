"""Split a single-frame series whose slice positions repeat into consistent stacks.

A series can hold two kinds of image at every position (a field map and a magnitude image,
magnitude and phase, ...). Stacking them together makes a volume that alternates between them,
so when positions repeat the images are split, by the first header cue that separates them
without leaving a repeat inside any part: echo number, temporal position, acquisition number,
ImageType, a vendor's private image-type tag. When positions repeat systematically and no
header cue separates them, instance numbers decide: consecutive blocks that each cover the
positions once, else the n-th image (by instance number) at each position. Those two fallbacks
are guesses from the acquisition order and say so in a warning."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Record = tuple[Any, Any]  # (InstanceHeader, header dataset)
Part = tuple[list[Record], str]

# Private image-type tags (tag -> keyword, VR) read by the header scan, with their creators.
VENDOR_TYPE_TAGS: dict[int, tuple[str, str]] = {
    0x00430010: ("GEPrivateCreator0043", "LO"),
    0x0043102F: ("GEPrivateImageType", "SS"),
    0x20050010: ("PhilipsPrivateCreator2005", "LO"),
    0x20051011: ("PhilipsImageTypeMR", "CS"),
}
_GE_TYPES = {0: "magnitude", 1: "phase", 2: "real", 3: "imaginary"}
_PHILIPS_TYPES = {"M": "magnitude", "P": "phase", "R": "real", "I": "imaginary"}

# Label words of the guessed splits: grouping adds GUESS_WARNING to such stacks.
GUESSED_LABELS = ("instance-number block", "repeat")
GUESS_WARNING = ("positions repeat in this series and no header attribute tells the images apart; the stack was "
                 "separated by instance-number order: check that it holds one kind of image")
SYSTEMATIC_FRACTION = 0.5  # share of positions that must repeat before instance order is used


def _position_key(rec: Record) -> tuple | None:
    h = rec[0]
    if h.image_position_lps is None or h.number_of_frames > 1:
        return None
    return tuple(round(x, 2) for x in h.image_position_lps)


def has_repeats(recs: list[Record]) -> bool:
    seen = set()
    for rec in recs:
        key = _position_key(rec)
        if key is None:
            continue
        if key in seen:
            return True
        seen.add(key)
    return False


def _image_type(rec: Record) -> str | None:
    value = rec[1].get("ImageType")
    if not value:
        return None
    parts = [value] if isinstance(value, str) else [str(v) for v in value]
    return "\\".join(p.strip().upper() for p in parts)


def _vendor_type(rec: Record) -> str | None:
    ds = rec[1]
    creator = str(ds.get("GEPrivateCreator0043", "") or "").strip().upper()
    if creator == "GEMS_PARM_01":
        value = ds.get("GEPrivateImageType")
        if isinstance(value, int):
            return f"{_GE_TYPES.get(value, f'type {value}')} (GE)"
    creator = str(ds.get("PhilipsPrivateCreator2005", "") or "").strip().upper()
    if creator.startswith("PHILIPS MR IMAGING DD 001"):
        value = str(ds.get("PhilipsImageTypeMR", "") or "").strip().upper()
        if value:
            return f"{_PHILIPS_TYPES.get(value, value)} (Philips)"
    return None


def _cues() -> list[tuple[str, Callable[[Record], Any]]]:
    return [
        ("echo", lambda r: r[0].echo_number),
        ("temporal position", lambda r: r[0].temporal_position),
        ("acquisition", lambda r: r[0].acquisition_number),
        ("ImageType", _image_type),
        ("vendor image type", _vendor_type),
    ]


def _by_cue(members: list[Record], word: str, key: Callable[[Record], Any]) -> list[Part] | None:
    groups: dict[Any, list[Record]] = defaultdict(list)
    for rec in members:
        groups[key(rec)].append(rec)
    if len(groups) <= 1 or any(has_repeats(g) for g in groups.values()):
        return None
    ordered = sorted(groups.items(), key=lambda kv: (kv[0] is None, not isinstance(kv[0], int),
                                                     kv[0] if isinstance(kv[0], int) else 0, str(kv[0])))
    return [(g, f"{word} {k if k is not None else 'none'}") for k, g in ordered]


def _instance_order(members: list[Record]) -> list[Record] | None:
    if any(r[0].instance_number is None for r in members):
        return None
    return sorted(members, key=lambda r: (r[0].instance_number, str(r[0].path)))


def _systematic(members: list[Record]) -> tuple[bool, int]:
    """(at least SYSTEMATIC_FRACTION of the positions repeat, most images at one position)."""
    counts: dict[tuple, int] = defaultdict(int)
    for rec in members:
        key = _position_key(rec)
        if key is not None:
            counts[key] += 1
    if not counts:
        return False, 1
    repeated = sum(1 for c in counts.values() if c > 1)
    return repeated >= SYSTEMATIC_FRACTION * len(counts), max(counts.values())


def _by_blocks(ordered: list[Record], depth: int) -> list[Part] | None:
    """Consecutive runs in instance order, a new run whenever a position comes back."""
    blocks: list[list[Record]] = [[]]
    seen: set = set()
    for rec in ordered:
        key = _position_key(rec)
        if key in seen:
            blocks.append([])
            seen = set()
        blocks[-1].append(rec)
        if key is not None:
            seen.add(key)
    if len(blocks) != depth:  # interleaved order: runs do not cover the positions
        return None
    out = []
    for b in blocks:
        lo, hi = b[0][0].instance_number, b[-1][0].instance_number
        out.append((b, f"instance-number block {lo}-{hi}"))
    return out


def _by_layers(ordered: list[Record], depth: int) -> list[Part]:
    """The n-th image (in instance order) at each position goes to part n."""
    layers: list[list[Record]] = [[] for _ in range(depth)]
    count: dict[Any, int] = defaultdict(int)
    for rec in ordered:
        key = _position_key(rec)
        n = count[key] if key is not None else 0
        count[key] += 1
        layers[n].append(rec)
    return [(layer, f"repeat {n + 1} at each position (by instance number)")
            for n, layer in enumerate(layers) if layer]


def split_repeats(members: list[Record]) -> list[Part]:
    """Parts of ``members`` without repeated positions, each with the label that sets it apart;
    ``[(members, "")]`` when nothing repeats or repeats are isolated and no cue separates them."""
    if not has_repeats(members):
        return [(members, "")]
    for word, key in _cues():
        parts = _by_cue(members, word, key)
        if parts is not None:
            return parts
    systematic, depth = _systematic(members)
    ordered = _instance_order(members)
    if not systematic or ordered is None:
        return [(members, "")]
    return _by_blocks(ordered, depth) or _by_layers(ordered, depth)
