"""Issue 16: the batch walk (numpy, many files in lockstep) gives exactly what the per-file reader
gives, or hands the file to it: same headers, same values, same scan result, same skips, on good
files and on damaged ones (the header-scan fuzz mutants)."""

import importlib.util
import math
import os
import shutil
import warnings
from pathlib import Path

import pydicom.data
import pytest

from app.dicom import batch_walk, fastheader, scan, scan_paths
from app.dicom.headers import wanted_tags
from app.dicom.pixels import LOAD_KEYWORDS

_BENCH = Path(__file__).resolve().parents[3] / "bench" / "scan_fuzz_bench.py"
_spec = importlib.util.spec_from_file_location("scan_fuzz_bench", _BENCH)
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)

TEST_FILES = [f for f in sorted(pydicom.data.get_testdata_files()) if os.path.isfile(f)]
N_MUTANTS = 300


def _header_key(h):
    if h is None:
        return None
    return (dict(h._layout), h._vrs, h._blob, bytes(h._offsets), dict(h.file_meta), h._read_implicit, h._read_little,
            (h.pixel_raw.value_tell, h.pixel_raw.length) if h.pixel_raw is not None else None, h._encoding, h.file_stat)


def _same_value(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def _mutant_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for i, src in enumerate(TEST_FILES):
        shutil.copyfile(src, folder / f"t{i:04d}")
    for i, (_name, _kind, data) in enumerate(fuzz.mutants(20261129, N_MUTANTS, fuzz.source_files())):
        (folder / f"m{i:04d}").write_bytes(data)
    return folder


@pytest.mark.parametrize("keywords", ["scan", "load"])
def test_walked_headers_equal_the_per_file_readers(tmp_path, keywords):
    wanted = wanted_tags() if keywords == "scan" else fastheader.Wanted(LOAD_KEYWORDS)
    folder = _mutant_folder(tmp_path)
    paths = sorted(str(p) for p in folder.iterdir())
    walked = batch_walk.walk(batch_walk.read_heads(paths), wanted)
    n_walked = 0
    for path, got in zip(paths, walked, strict=True):
        if got is None:
            continue  # handed to the per-file reader
        n_walked += 1
        ref = fastheader.read_fast_header(Path(path), wanted)
        assert _header_key(got) == _header_key(ref), path
        for kw in batch_walk.PREFILL:  # the values decoded ahead are the ones get() decodes
            assert (kw in got) == (kw in ref), (path, kw)
            assert _same_value(got.get(kw), ref.get(kw)), (path, kw, got.get(kw), ref.get(kw))
    assert n_walked > len(TEST_FILES) // 2  # the walk is not a no-op


def test_prefilled_lists_are_not_shared(tmp_path):
    folder = tmp_path / "same"
    folder.mkdir()
    src = next(f for f in TEST_FILES if os.path.basename(f) == "CT_small.dcm")
    for i in range(3):
        shutil.copyfile(src, folder / f"c{i}")
    a, b, _c = batch_walk.walk(batch_walk.read_heads(sorted(str(p) for p in folder.iterdir())), wanted_tags())
    assert a.get("ImageOrientationPatient") == b.get("ImageOrientationPatient")
    a.get("ImageOrientationPatient").append(9.0)
    assert len(b.get("ImageOrientationPatient")) == 6


def test_scan_result_is_the_same_with_and_without_the_walk(tmp_path, monkeypatch):
    folder = _mutant_folder(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batched = scan_paths([folder])
        monkeypatch.setattr(scan, "BATCH_MIN", 10**9)  # every file through the per-file reader
        per_file = scan_paths([folder])
    assert batched.files_seen == per_file.files_seen
    assert batched.skipped == per_file.skipped
    assert batched.patients == per_file.patients
    batched_loads = [_header_key(h.load_header) for s in batched.all_series() for h in s.instances]
    per_file_loads = [_header_key(h.load_header) for s in per_file.all_series() for h in s.instances]
    assert batched_loads == per_file_loads
    assert any(k is not None for k in batched_loads)


def test_chunks_bounded_by_bytes_give_the_same_scan(tmp_path, monkeypatch):
    folder = tmp_path / "ct"
    folder.mkdir()
    for i, src in enumerate(f for f in TEST_FILES if os.path.getsize(f) < 20000):
        shutil.copyfile(src, folder / f"t{i:04d}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = scan_paths([folder])
        monkeypatch.setattr(scan, "BATCH_BYTES", 20000)  # a few files per chunk
        chunked = scan_paths([folder])
    assert (chunked.patients, chunked.skipped, chunked.files_seen) == (whole.patients, whole.skipped, whole.files_seen)


def test_read_heads_stops_after_the_byte_budget(tmp_path):
    paths = []
    for i in range(5):
        (tmp_path / f"f{i}").write_bytes(bytes(100))
        paths.append(str(tmp_path / f"f{i}"))
    assert len(batch_walk.read_heads(paths)) == 5
    assert len(batch_walk.read_heads(paths, 150)) == 2  # the file that reaches the budget is the last
    assert len(batch_walk.read_heads(paths, 1)) == 1
    assert batch_walk.read_heads([str(tmp_path / "missing"), paths[0]])[0] is None


@pytest.mark.parametrize("odd", [0, 7, 19])  # the first, a middle and the last file of the series
@pytest.mark.parametrize("damage", ["bits", "rows", "class", "orientation"])
def test_one_odd_file_in_a_series_of_alike_files(tmp_path, monkeypatch, odd, damage):
    """Files with one layout share the checks and derived fields only when the values behind them
    are equal: one file that differs is judged on its own, as the per-file reader judges it."""
    import numpy as np

    from .conftest import CT_STORAGE, base_dataset, save, set_pixels

    for k in range(20):
        ds = base_dataset(CT_STORAGE, "CT", SeriesInstanceUID="1.2.826.0.1.3680043.8.498.78")
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [0.0, 0.0, 2.0 * k]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing = [0.5, 0.5]
        set_pixels(ds, np.zeros((4, 4), dtype=np.int16))
        if k == odd:
            if damage == "bits":
                ds.BitsAllocated = 12  # same length, another value: a damaged header
            elif damage == "rows":
                ds.Rows = 0
            elif damage == "class":
                ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"  # Basic Text SR: not an image
            else:
                ds.ImageOrientationPatient = [0.0, 1.0, 0.0, 0.0, 0.0, -1.0]
        save(ds, tmp_path / f"f{k:02d}.dcm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batched = scan_paths([tmp_path])
        monkeypatch.setattr(scan, "BATCH_MIN", 10**9)
        per_file = scan_paths([tmp_path])
    assert (batched.patients, batched.skipped) == (per_file.patients, per_file.skipped)
    n_kept = sum(len(s.instances) for s in batched.all_series())
    assert n_kept == (20 if damage == "orientation" else 19)


def _ct_with(tmp_path, name, **extra):
    import numpy as np
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    from .conftest import CT_STORAGE, base_dataset, save, set_pixels

    ds = base_dataset(CT_STORAGE, "CT")
    set_pixels(ds, np.zeros((4, 4), dtype=np.int16))
    if extra.get("nested"):
        inner = Dataset()
        inner.CodeValue = "T-D0300"
        inner.ReferencedSOPInstanceUID = "1.2.3.4"
        middle = Dataset()
        middle.ConceptNameCodeSequence = Sequence([inner, inner])
        last = Dataset()
        ds.ContentSequence = Sequence([middle, last])  # nested two deep, undefined lengths
        middle["ConceptNameCodeSequence"].is_undefined_length = True
        ds["ContentSequence"].is_undefined_length = True
        for item in (inner, middle, last):
            item.is_undefined_length_sequence_item = True
    if extra.get("view_code"):
        item = Dataset()
        item.CodeValue = "R-10206"
        ds.ViewCodeSequence = Sequence([item])
    return save(ds, tmp_path / name)


def test_nested_sequences_are_walked_and_a_needed_sequence_is_handed_over(tmp_path):
    nested = _ct_with(tmp_path, "nested.dcm", nested=True)
    needed = _ct_with(tmp_path, "view.dcm", view_code=True)
    got_nested, got_needed = batch_walk.walk(batch_walk.read_heads([str(nested), str(needed)]), wanted_tags())
    assert nested.read_bytes().count(b"\xff\xff\xff\xff") == 6  # two sequences, four items: undefined lengths
    assert got_nested is not None  # sequences it does not keep are stepped over, items and all
    assert _header_key(got_nested) == _header_key(fastheader.read_fast_header(Path(nested), wanted_tags()))
    assert got_needed is None  # the per-file reader hands it to pydicom
