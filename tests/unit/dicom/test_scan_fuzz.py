"""Issue 11 fuzzing (header scan): a bounded, deterministic sample of header mutants of pydicom's
test files (byte flips, truncation, huge declared lengths, wrong VRs, deep nesting). Each comes
back as a header or a listed skip, never an exception, within the time and allocation bounds of
bench/scan_fuzz_bench.py (the long run lives there)."""

import importlib.util
import warnings
from pathlib import Path

_BENCH = Path(__file__).resolve().parents[3] / "bench" / "scan_fuzz_bench.py"
_spec = importlib.util.spec_from_file_location("scan_fuzz_bench", _BENCH)
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)
check_one, mutants, source_files = fuzz.check_one, fuzz.mutants, fuzz.source_files

N_MUTANTS = 250  # a few seconds


def test_header_mutants_are_typed_bounded_and_quick(tmp_path):
    import pydicom  # noqa: F401 - imported before measuring allocations

    failures = []
    kinds = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom's parser chatter about the damage
        for i, (name, kind, data) in enumerate(mutants(20261129, N_MUTANTS, source_files())):
            kinds.add(kind)
            path = tmp_path / f"m{i}"
            path.write_bytes(data)
            failures += [f"m{i} ({name}, {kind}): {p}" for p in check_one(path)]
            path.unlink()
    assert kinds == {"flip", "truncate", "huge-length", "wrong-vr", "deep-nesting"}
    assert failures == []
