"""The scan's speed-ups change no result: the fast value decoders give exactly what the general
decoder gives, the lean file reader reads like a file, and pausing the garbage collector during a
scan leaves it as it was."""

from __future__ import annotations

import gc
import itertools
import random
import struct
import threading

import pytest

from app.core.gc_pause import gc_paused
from app.dicom import fastheader
from app.dicom.bounded_io import BoundedFile

_ERRORS = (ValueError, UnicodeDecodeError, struct.error, OverflowError)  # FastHeader.get: "absent"


def _general(vr: str, raw: bytes):
    """The decoder before the fast paths: the general text decoder, struct for numbers."""
    if vr in fastheader._TEXT_VRS:
        return fastheader._decode_text(vr, raw, "latin-1")
    code, size = fastheader._NUM[vr]
    n = len(raw) // size
    if n == 0:
        return None
    nums = struct.unpack(f"<{n}{code}", raw[: n * size])
    return nums[0] if n == 1 else list(nums)


def _outcome(fn, vr: str, raw: bytes):
    try:
        return repr(fn(vr, raw))
    except _ERRORS:
        return "absent"


TRICKY = [b"", b" ", b"\x00", b"1.0", b" -5.6\\-5.6\\36.0 ", b"1\\\\2", b"\\", b"1.0\x00", b"\x001", b"\t\x00",
          b"\x00\t", b"1e3", b"inf", b"nan", b"1_0", b"+5", b"12345678901234567890", b"\xa01.0", b"1\x1c",
          b"\xb5m", b"ISO_IR 100", b"MONOCHROME2 ", b"ORIGINAL\\PRIMARY\\AXIAL", b"\x10\x00", b"\x10\x00\x20"]


@pytest.mark.parametrize("vr", sorted(fastheader._TEXT_VRS | set(fastheader._NUM)))
def test_fast_decoders_match_the_general_decoder(vr):
    rng = random.Random(vr)
    alphabet = b"0123456789.-+eE \\\x00\t\x1c\xa0\x85_nainfAB"
    randoms = [bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(3000)]
    for raw in itertools.chain(TRICKY, randoms):
        assert _outcome(fastheader._decode, vr, raw) == _outcome(_general, vr, raw), (vr, raw)


def test_an_infinite_integer_string_reads_as_absent():
    header = fastheader.FastHeader({"InstanceNumber": ("IS", b"inf ")}, {}, False, None)
    assert header.get("InstanceNumber", "default") is None


def test_bounded_file_reads_seeks_and_never_reads_past_the_end(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(200)))
    with BoundedFile(path) as f:
        assert f.size == 200 and f.stat_key[0] == 200
        assert f.read(10) == bytes(range(10))
        assert f.read(5) == bytes(range(10, 15)) and f.tell() == 15
        f.seek(190)
        assert f.read(0xFFFFFFF0) == bytes(range(190, 200))  # a damaged length allocates nothing more
        assert f.read(10) == b""
        f.seek(500)
        assert f.read(10) == b""
        f.seek(-3, 2)
        assert f.read() == bytes(range(197, 200))


def test_gc_pause_nests_and_restores_the_collector():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer scan still runs
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # off before: stays off
    finally:
        gc.enable()


def test_gc_pause_from_overlapping_threads_restores_the_collector():
    inside, release = threading.Barrier(3), threading.Event()

    def scan() -> None:
        with gc_paused():
            inside.wait()
            release.wait()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait()
    assert not gc.isenabled()
    release.set()
    for t in threads:
        t.join()
    assert gc.isenabled()


def test_scan_leaves_the_collector_on_even_when_cancelled(tmp_path):
    from app.core.progress import Cancelled, CancelToken
    from app.dicom import scan_paths

    (tmp_path / "x.dcm").write_bytes(b"not dicom")
    scan_paths([tmp_path])
    assert gc.isenabled()
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        scan_paths([tmp_path], cancel=token)
    assert gc.isenabled()


def test_packed_header_reads_like_the_dict_it_was_built_from():
    raw = {"Rows": ("US", b"\x10\x00"), "PixelSpacing": ("DS", b"0.7\\0.6 "), "PatientName": ("PN", b"Doe^J"),
           "ImageType": ("CS", b"ORIGINAL\\PRIMARY")}
    header = fastheader.FastHeader(raw, {"TransferSyntaxUID": "1.2.840.10008.1.2.1"}, False, None)
    assert header.get("Rows") == 16 and header.Rows == 16
    assert header.get("PixelSpacing") == [0.7, 0.6]
    assert header.get("PatientName") == "Doe^J"
    assert header.get("ImageType") == ["ORIGINAL", "PRIMARY"]
    assert header.get("Columns", "none") == "none" and "Columns" not in header
    assert "Rows" in header and len(header) == 4
    assert header.file_meta["TransferSyntaxUID"] == "1.2.840.10008.1.2.1"
    empty = fastheader.FastHeader({}, {}, True, None)
    assert empty.get("Rows") is None and len(empty) == 0


def test_slim_header_keeps_only_the_load_attributes_and_shares_the_values():
    raw = {"Rows": ("US", b"\x10\x00"), "PatientName": ("PN", b"Doe^J"), "RescaleSlope": ("DS", b"2 ")}
    header = fastheader.FastHeader(raw, {}, False, fastheader.RawPixel(300, 512))
    header.file_stat = (1, 2, 3, 4)
    slim = header.slim(frozenset({"Rows", "RescaleSlope"}))
    assert slim.get("Rows") == 16 and slim.get("RescaleSlope") == 2.0
    assert "PatientName" not in slim and slim.get("PatientName") is None
    assert slim.pixel_raw is header.pixel_raw and slim.file_stat == (1, 2, 3, 4)
    assert slim._blob is header._blob  # no copy of the values
    assert slim.get("RescaleSlope") == 2.0 and not slim._values  # decoded on each get, nothing kept


def test_files_of_one_scan_share_equal_values(writer, tmp_path):
    from app.dicom import scan_paths

    writer.stack(5)
    entry = scan_paths([tmp_path]).all_series()[0]
    first, *rest = entry.instances
    assert all(h.image_orientation is first.image_orientation for h in rest)
    assert all(h.pixel_spacing_mm is first.pixel_spacing_mm for h in rest)
    assert all(h.sop_class_uid is first.sop_class_uid for h in rest)
    assert all(h.load_header._layout is first.load_header._layout for h in rest)  # one layout per series
    assert len({h.image_position_lps for h in entry.instances}) == 5  # per-file values stay per file


@pytest.mark.parametrize("n", range(0, 9))
def test_median_matches_numpy(n):
    import math

    import numpy as np

    from app.dicom.median import median

    rng = np.random.default_rng(n)
    for values in (rng.normal(size=n), np.round(rng.normal(size=n), 1), np.full(n, 2.5)):
        expected = float(np.median(values)) if n else math.nan
        got = median(values)
        assert (math.isnan(got) and math.isnan(expected)) or got == expected
    if n:
        assert math.isnan(median(np.append(rng.normal(size=n), np.nan)))
