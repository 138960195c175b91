"""Long header-fuzz run: 3,000 mutants through scan + load + preview, in a process pool.

Each mutant runs in a pool worker (which stands in for the workstation's process), so a
decoder abort there is counted, not fatal to the run; a mutant that exceeds the hang limit is
counted as a hang and its worker is killed. A batch whose pool broke or hung is re-run one
mutant at a time in fresh single-worker pools to name the culprit.

    python bench/fuzz_bench.py [--count 3000] [--seed 7] [--workers 2]

Prints counts of ok / typed / untyped outcomes, hangs, aborts, the slowest mutant, the largest
Python allocation (tracemalloc) relative to the file size, and the workers' peak RSS.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HANG_S = 60.0
_folder = None


def _task(name: str, data: bytes) -> tuple:
    import logging
    import warnings

    global _folder
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)
    from app.dicom.fuzz_mutate import exercise

    if _folder is None:  # warm up: first-use imports are not the mutant's allocations
        import pydicom.data

        _folder = Path(tempfile.mkdtemp(prefix="isthmus-fuzz-"))
        for warm in ("CT_small.dcm", "MR_small_jp2klossless.dcm", "SC_rgb_jpeg.dcm"):
            exercise(_folder, "warm-up", Path(pydicom.data.get_testdata_file(warm)).read_bytes())

    out = exercise(_folder, name, data)
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (out.name, out.kind, out.detail, out.seconds, out.peak_bytes, out.file_bytes, rss_kib)


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def _kill(pool: ProcessPoolExecutor) -> None:
    for proc in list(getattr(pool, "_processes", {}).values()):
        with contextlib.suppress(Exception):
            proc.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def _one_by_one(batch, results, events) -> None:
    for name, data in batch:
        pool = _pool(1)
        fut = pool.submit(_task, name, data)
        try:
            results.append(fut.result(timeout=HANG_S))
        except FutureTimeout:
            events.append(("hang", name))
        except BrokenProcessPool:
            events.append(("abort", name))
        finally:
            _kill(pool)


def run(count: int, seed: int, workers: int) -> dict:
    from app.dicom.fuzz_mutate import mutants, seed_files

    seeds = seed_files(ROOT / "sample_dicom")
    items = list(mutants(seeds, count, seed))
    results: list[tuple] = []
    events: list[tuple[str, str]] = []
    t0 = time.perf_counter()
    pool = _pool(workers)
    batch_size = 8 * workers
    for start in range(0, len(items), batch_size):
        batch = items[start:start + batch_size]
        futures = [pool.submit(_task, name, data) for name, data in batch]
        got: list[tuple] = []
        try:
            for fut in futures:
                got.append(fut.result(timeout=HANG_S * batch_size))
            results.extend(got)
        except (FutureTimeout, BrokenProcessPool):
            _kill(pool)
            _one_by_one(batch, results, events)
            pool = _pool(workers)
        if (start // batch_size) % 25 == 0:
            print(f"  {min(start + batch_size, len(items))}/{len(items)} mutants, "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
    _kill(pool)
    kinds = collections.Counter(r[1] for r in results)
    slow = max(results, key=lambda r: r[3]) if results else None
    ratio = max(results, key=lambda r: r[4] / max(r[5], 1)) if results else None
    biggest = max(results, key=lambda r: r[4]) if results else None
    return {
        "mutants": len(items), "seeds": len(seeds), "seconds": time.perf_counter() - t0,
        "ok": kinds["ok"], "typed": kinds["typed"], "untyped": kinds["untyped"],
        "untyped_examples": [f"{r[0]}: {r[2]}" for r in results if r[1] == "untyped"][:10],
        "hangs": [n for e, n in events if e == "hang"] + [r[0] for r in results if r[3] > HANG_S],
        "aborts": [n for e, n in events if e == "abort"],
        "slowest": (slow[0], round(slow[3], 2)) if slow else None,
        "largest_alloc_mib": (biggest[0], round(biggest[4] / 2**20, 1), biggest[5]) if biggest else None,
        "largest_alloc_per_file_byte": (ratio[0], round(ratio[4] / max(ratio[5], 1), 1)) if ratio else None,
        "peak_rss_mib": round(max((r[6] for r in results), default=0) / 1024, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = ap.parse_args()
    res = run(args.count, args.seed, args.workers)
    for key, value in res.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
