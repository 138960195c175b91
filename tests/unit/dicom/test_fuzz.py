"""Bounded header fuzzing of scan + load + preview (issue 11, "fuzzing as a habit").

A fixed seed makes a few hundred mutants of pydicom's bundled test files and of one file per
series of sample_dicom/ (byte flips, truncation, huge declared sizes and lengths, wrong VRs,
damaged numbers, deeply nested sequences). Every mutant must load or fail with a typed
DicomLoadError / listed skip; none may hang, and none may make Python allocate more than a
fixed multiple of its size. The 3,000-mutant run is bench/fuzz_bench.py."""

import faulthandler
import logging
from pathlib import Path

import pytest

from app.dicom.fuzz_mutate import OPS, exercise, mutants, seed_files

ROOT = Path(__file__).resolve().parents[3]
COUNT = 350
SEED = 20261129
HANG_S = 30.0
MEMORY_FLOOR_BYTES = 128 << 20  # small files: decoders and pydicom need some working memory
MEMORY_PER_FILE_BYTE = 100  # larger files: at most this multiple of the file size


@pytest.mark.filterwarnings("ignore")
def test_fuzzed_headers_give_typed_errors_no_hang_bounded_memory(tmp_path):
    seeds = seed_files(ROOT / "sample_dicom")
    assert len(seeds) > 100
    logging.disable(logging.CRITICAL)  # pydicom logs every decoder failure
    findings, ops_seen = [], set()
    try:
        for name, data in mutants(seeds, COUNT, SEED):
            faulthandler.dump_traceback_later(HANG_S * 2, exit=True)  # a real hang ends the run, loudly
            out = exercise(tmp_path, name, data)
            faulthandler.cancel_dump_traceback_later()
            ops_seen.add(name.split("-")[1])
            limit = max(MEMORY_FLOOR_BYTES, MEMORY_PER_FILE_BYTE * out.file_bytes)
            if out.kind == "untyped":
                findings.append(f"{name}: untyped {out.detail}")
            if out.seconds > HANG_S:
                findings.append(f"{name}: took {out.seconds:.1f} s")
            if out.peak_bytes > limit:
                findings.append(f"{name}: allocated {out.peak_bytes >> 20} MiB for {out.file_bytes} bytes")
    finally:
        faulthandler.cancel_dump_traceback_later()
        logging.disable(logging.NOTSET)
    assert ops_seen == set(OPS)
    assert not findings, "\n".join(findings)
