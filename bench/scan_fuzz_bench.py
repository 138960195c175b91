"""Header-scan fuzzer: mutants of pydicom's test files and a synthetic CT header through
``read_header`` (the per-file step of every folder scan).

Mutations: byte flips in the header region, truncation, huge declared lengths, wrong VRs and
sequences nested thousands deep. Each mutant must come back as a header or a listed skip with a
reason (never an exception), within MAX_SECONDS, allocating at most ALLOC_FACTOR x the file size
+ ALLOC_SLACK_BYTES. tests/unit/dicom/test_scan_fuzz.py runs a bounded sample; the long run:

    python bench/scan_fuzz_bench.py --mutants 3000 --seed 1

Last result: see bench/scan_fuzz_results.md.
"""

from __future__ import annotations

import argparse
import os
import random
import struct
import sys
import time
import tracemalloc
import warnings
from collections.abc import Iterator
from pathlib import Path

MAX_SECONDS = 5.0
ALLOC_FACTOR = 50
ALLOC_SLACK_BYTES = 20_000_000
MAX_SOURCE_BYTES = 1_000_000
_LONG_VRS = (b"OB", b"OW", b"SQ", b"UN", b"UT", b"UC", b"UR", b"OF", b"OD", b"OL")
_SHORT_VRS = (b"CS", b"DS", b"IS", b"LO", b"SH", b"UI", b"US", b"PN", b"DA")
_NEST_OPEN = (struct.pack("<HH", 0x0009, 0x1010) + b"SQ\0\0" + struct.pack("<I", 0xFFFFFFFF)
              + struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF))
_NEST_CLOSE = struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)


def source_files() -> list[Path]:
    """pydicom's bundled test files small enough to mutate quickly."""
    import pydicom.data

    folder = Path(pydicom.data.get_testdata_file("CT_small.dcm")).parent
    return sorted(p for p in folder.rglob("*") if p.is_file() and 200 < p.stat().st_size <= MAX_SOURCE_BYTES)


def _vr_positions(data: bytes, limit: int) -> list[int]:
    """Offsets of what look like explicit-VR element headers in the first ``limit`` bytes."""
    out = []
    for vr in _LONG_VRS + _SHORT_VRS:
        start = 0
        while True:
            at = data.find(vr, start, limit)
            if at < 4:
                break
            out.append(at - 4)
            start = at + 2
    return out


def mutate(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One mutant of ``data`` and the name of the mutation."""
    b = bytearray(data)
    head = min(len(b), 4096)
    kind = rng.choice(("flip", "truncate", "huge-length", "wrong-vr", "deep-nesting"))
    if kind == "flip":
        for _ in range(rng.randint(1, 10)):
            b[rng.randrange(0, head)] = rng.randrange(256)
    elif kind == "truncate":
        b = b[:rng.randrange(1, head)]
    elif kind in ("huge-length", "wrong-vr"):
        spots = _vr_positions(bytes(b), head)
        if not spots:
            return mutate(data, rng)
        at = rng.choice(spots)
        if kind == "wrong-vr":
            b[at + 4:at + 6] = rng.choice(_LONG_VRS + _SHORT_VRS + (b"ZZ", b"\x00\x00"))
        elif bytes(b[at + 4:at + 6]) in _LONG_VRS:
            b[at + 8:at + 12] = struct.pack("<I", rng.choice((0xFFFFFFF0, 0x7FFFFFFF, 0x40000000)))
        else:
            b[at + 6:at + 8] = struct.pack("<H", 0xFFFF)
    else:
        at = 132 if bytes(b[128:132]) == b"DICM" else 0
        while at + 8 <= len(b) and struct.unpack_from("<H", b, at)[0] == 2:  # past the file meta
            vr = bytes(b[at + 4:at + 6])
            at += 12 + struct.unpack_from("<I", b, at + 8)[0] if vr in _LONG_VRS else 8 + struct.unpack_from("<H", b, at + 6)[0]
        depth = rng.choice((200, 3000, 20000))
        b[at:at] = _NEST_OPEN * depth + _NEST_CLOSE * depth
    return kind, bytes(b)


def mutants(seed: int, n: int, sources: list[Path]) -> Iterator[tuple[str, str, bytes]]:
    """(source name, mutation, bytes) for ``n`` mutants, deterministic for a seed."""
    rng = random.Random(seed)
    cache: dict[Path, bytes] = {}
    for _ in range(n):
        src = rng.choice(sources)
        if src not in cache:
            cache[src] = src.read_bytes()
        kind, data = mutate(cache[src], rng)
        yield src.name, kind, data


def check_one(path: Path) -> list[str]:
    """Problems of one read_header call on ``path`` (empty when it behaved)."""
    from app.dicom.headers import read_header

    size = path.stat().st_size
    tracemalloc.start()
    start = time.perf_counter()
    try:
        ds, skip = read_header(path)
    except BaseException as exc:
        return [f"raised {type(exc).__name__}: {exc}"]
    finally:
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    problems = []
    if ds is None and skip is None:
        problems.append("neither a header nor a skip")
    if skip is not None and not skip.reason:
        problems.append("skip without a reason")
    if seconds > MAX_SECONDS:
        problems.append(f"took {seconds:.1f} s")
    if peak > ALLOC_FACTOR * size + ALLOC_SLACK_BYTES:
        problems.append(f"allocated {peak / 2**20:.0f} MiB for a {size} byte file")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mutants", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", default="/tmp/isthmus-scan-fuzz")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    import pydicom  # noqa: F401 - imported before measuring: its import is not a per-file cost

    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    failures: list[str] = []
    t0 = time.perf_counter()
    for i, (name, kind, data) in enumerate(mutants(args.seed, args.mutants, source_files())):
        path = work / f"m{i:05d}"
        path.write_bytes(data)
        counts[kind] = counts.get(kind, 0) + 1
        for problem in check_one(path):
            failures.append(f"m{i:05d} ({name}, {kind}): {problem}")
            path.rename(work / f"fail-{i:05d}")
            break
        else:
            path.unlink()
    total = time.perf_counter() - t0
    print(f"{args.mutants} mutants (seed {args.seed}; " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
          + f") in {total:.0f} s: {len(failures)} problem(s)")
    for f in failures[:20]:
        print("  " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
