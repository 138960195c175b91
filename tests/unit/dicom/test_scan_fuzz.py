"""Issue 11 fuzzing (header scan): a bounded, deterministic sample of header mutants of pydicom's
test files (byte flips, truncation, huge declared lengths, wrong VRs, deep nesting). Each comes
back as a header or a listed skip, never an exception, within the time and allocation bounds of
bench/scan_fuzz_bench.py (the long run lives there)."""

import warnings

from bench.scan_fuzz_bench import check_one, mutants, source_files

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
