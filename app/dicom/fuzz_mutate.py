"""Header fuzzing for the DICOM core (a development tool used by tests/unit/dicom/test_fuzz.py
and bench/fuzz_bench.py; nothing in the application imports it).

Mutants are made deterministically from a seed: byte flips in the header, truncation, huge
declared sizes (Rows/Columns/NumberOfFrames/...), huge element lengths, wrong VRs, damaged
numbers (NaN, 1e308) in geometry values, and deeply nested sequences. ``exercise`` runs one
mutant through scan + load + preview and classifies the outcome: "ok" (loaded), "typed"
(a DicomLoadError or a listed skip) or "untyped" (anything else: a bug)."""

from __future__ import annotations

import random
import struct
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

OPS = ("flip", "truncate", "huge_size", "length_field", "wrong_vr", "bad_numbers", "deep_nesting")

_SIZE_TAGS = {(0x0028, 0x0010): "US", (0x0028, 0x0011): "US", (0x0028, 0x0008): "IS",
              (0x0028, 0x0100): "US", (0x0028, 0x0002): "US", (0x0028, 0x0101): "US", (0x0028, 0x0102): "US"}
_NUMBER_TAGS = [(0x0020, 0x0032), (0x0020, 0x0037), (0x0028, 0x0030), (0x0018, 0x0050), (0x0028, 0x1053),
                (0x0028, 0x1052), (0x0018, 0x0088)]
_ANY_TAGS = list(_SIZE_TAGS) + _NUMBER_TAGS + [(0x0008, 0x0016), (0x0008, 0x0060), (0x0020, 0x000E),
                                               (0x0028, 0x0004), (0x7FE0, 0x0010), (0x5200, 0x9230)]
_VRS = [b"SQ", b"OB", b"UN", b"FD", b"AT", b"XX", b"UL", b"DS", b"US", b"UT"]
_LONG = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
_BAD_NUMBERS = [b"nan", b"inf", b"-inf", b"1e308", b"-1e308", b"1e-320", b"0", b"1e30", b"-0"]


@dataclass
class Outcome:
    name: str
    kind: str  # "ok" | "typed" | "untyped"
    detail: str
    seconds: float
    peak_bytes: int
    file_bytes: int


def seed_files(sample_root: Path | None = None, max_bytes: int = 400_000, per_folder: int = 1) -> list[Path]:
    """pydicom's bundled test files (up to ``max_bytes``) and ``per_folder`` files of each
    series folder under ``sample_root``, in a fixed order."""
    import pydicom.data

    seeds = sorted(Path(p) for p in pydicom.data.get_testdata_files()
                   if Path(p).is_file() and Path(p).stat().st_size <= max_bytes)
    if sample_root is not None and sample_root.is_dir():
        for folder in sorted({p.parent for p in sample_root.rglob("*.dcm")}):
            seeds.extend(sorted(folder.glob("*.dcm"))[:per_folder])
    return seeds


def _elements(data: bytes, tag: tuple[int, int]) -> list[int]:
    pat = struct.pack("<HH", *tag)
    out: list[int] = []
    at = data.find(pat, 128)
    while at >= 0 and len(out) < 8:
        out.append(at)
        at = data.find(pat, at + 1)
    return out


def _value_span(data: bytes, pos: int) -> tuple[int, int, int | None]:
    """(offset of the value, its length, offset of the length field's first byte) of the element
    at ``pos``, guessing explicit VR when two capital letters follow the tag."""
    vr = data[pos + 4:pos + 6]
    if len(vr) == 2 and vr.isalpha() and vr.isupper():
        if vr in _LONG:
            return pos + 12, struct.unpack("<I", data[pos + 8:pos + 12].ljust(4, b"\0"))[0], pos + 8
        return pos + 8, struct.unpack("<H", data[pos + 6:pos + 8].ljust(2, b"\0"))[0], pos + 6
    return pos + 8, struct.unpack("<I", data[pos + 4:pos + 8].ljust(4, b"\0"))[0], pos + 4


def _header_end(data: bytes) -> int:
    at = data.rfind(b"\xe0\x7f\x10\x00")
    return at if at > 132 else len(data)


def _dataset_start(data: bytes) -> int:
    if data[128:132] != b"DICM":
        return 0
    at = 132
    while at + 8 <= len(data) and data[at:at + 2] == b"\x02\x00":
        _, length, _ = _value_span(data, at)
        at = _value_span(data, at)[0] + length
    return min(at, len(data))


def _nesting(depth: int, explicit: bool) -> bytes:
    head = struct.pack("<HH", 0x0009, 0x1010) + (b"SQ\0\0" if explicit else b"") + b"\xff\xff\xff\xff"
    item = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
    close = struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    creator = struct.pack("<HH", 0x0009, 0x0010) + ((b"LO" + struct.pack("<H", 4)) if explicit
                                                   else struct.pack("<I", 4)) + b"FUZZ"
    return creator + (head + item) * depth + close * depth


def mutate(data: bytes, rng: random.Random, op: str) -> bytes:
    buf = bytearray(data)
    end = _header_end(data)
    if op == "flip":
        for _ in range(rng.randint(1, 8)):
            if end > 132:
                buf[rng.randrange(132, end)] = rng.randrange(256)
    elif op == "truncate":
        buf = buf[:rng.randrange(0, len(buf))]
    elif op in ("huge_size", "length_field", "wrong_vr", "bad_numbers"):
        tags = {"huge_size": list(_SIZE_TAGS), "bad_numbers": _NUMBER_TAGS}.get(op, _ANY_TAGS)
        found = [p for t in tags for p in _elements(data, t)]
        if not found:
            return mutate(data, rng, "flip")
        pos = rng.choice(found)
        value_at, length, length_at = _value_span(data, pos)
        if op == "huge_size":
            value = bytes(buf[value_at:value_at + length])
            if 0 < length <= 16 and value.strip(b" \0").isdigit():  # IS text: the most digits it holds
                buf[value_at:value_at + length] = b"9" * length
            elif length == 2:
                buf[value_at:value_at + 2] = struct.pack("<H", rng.choice([0xFFFF, 0x8000, 0, 0x4001]))
            else:
                return mutate(data, rng, "length_field")
        elif op == "length_field" and length_at is not None:
            size = 4 if length_at == pos + 8 or length_at == pos + 4 else 2
            big = rng.choice([0xFFFFFFF0, 0x7FFFFFFF, len(data) * 4]) if size == 4 else 0xFFFF
            buf[length_at:length_at + size] = (big & (0xFFFFFFFF if size == 4 else 0xFFFF)).to_bytes(size, "little")
        elif op == "wrong_vr" and buf[pos + 4:pos + 6].isalpha():
            buf[pos + 4:pos + 6] = rng.choice(_VRS)
        elif op == "bad_numbers" and 0 < length <= 200:
            parts = [rng.choice(_BAD_NUMBERS) for _ in range(6)]
            text = b"\\".join(parts)[:length].ljust(length, b" ")
            buf[value_at:value_at + length] = text
    elif op == "deep_nesting":
        start = _dataset_start(data)
        explicit = data[start + 4:start + 6].isalpha() if start + 6 <= len(data) else True
        depth = rng.choice([200, 2000, 20000])
        buf[start:start] = _nesting(depth, explicit)
    return bytes(buf)


def mutants(seeds: list[Path], count: int, seed: int) -> Iterator[tuple[str, bytes]]:
    """``count`` (name, bytes) mutants, the same for the same seeds and seed."""
    rng = random.Random(seed)
    cache: dict[Path, bytes] = {}
    for i in range(count):
        src = seeds[rng.randrange(len(seeds))]
        if src not in cache:
            cache[src] = src.read_bytes()
        op = OPS[i % len(OPS)]
        yield f"{i:05d}-{op}-{src.name}", mutate(cache[src], rng, op)


def exercise(folder: Path, name: str, data: bytes) -> Outcome:
    """Write the mutant into the empty ``folder`` as its only file, scan it and load every series
    (and its preview). Peak Python allocations are measured with tracemalloc."""
    from app.dicom import load_preview, load_series, scan_paths
    from app.dicom.errors import DicomLoadError

    path = folder / "mutant.dcm"
    path.write_bytes(data)
    kind, detail = "ok", ""
    t0 = time.perf_counter()
    tracemalloc.start()
    try:
        res = scan_paths([folder])
        if res.skipped and not res.all_series():
            kind, detail = "typed", res.skipped[0].reason
        for entry in res.all_series():
            for fn in (load_series, load_preview):
                try:
                    fn(entry)
                except DicomLoadError as exc:
                    kind, detail = "typed", f"{type(exc).__name__}: {exc.message}"[:300]
    except Exception as exc:
        kind, detail = "untyped", f"{type(exc).__name__}: {exc}"[:300]
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        path.unlink(missing_ok=True)
    return Outcome(name, kind, detail, time.perf_counter() - t0, peak, len(data))
