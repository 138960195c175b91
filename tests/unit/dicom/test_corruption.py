"""Nothing crashes or hangs on damaged files: every truncation point and random byte damage of a
valid file either loads or gives a listed skip / typed DicomLoadError."""

import random

import numpy as np
import pytest

from app.dicom import load_preview, load_series, scan_paths
from app.dicom.errors import DicomLoadError
from app.dicom.fastheader import read_fast_header
from app.dicom.headers import _wanted

from .conftest import radiograph_dataset, save


def _exercise(folder):
    res = scan_paths([folder])
    assert res.files_seen == 1
    for entry in res.all_series():
        for fn in (load_series, load_preview):
            try:
                fn(entry)
            except DicomLoadError as exc:
                assert exc.message
    return res


@pytest.fixture
def good_bytes(writer, tmp_path):
    paths, _, _ = writer.stack(1, rows=6, cols=6, folder="good", WindowCenter=40, WindowWidth=400)
    return paths[0].read_bytes()


def test_every_truncation_point(good_bytes, tmp_path):
    folder = tmp_path / "cut"
    folder.mkdir()
    target = folder / "x.dcm"
    for n in [*list(range(0, len(good_bytes), 7)), len(good_bytes) - 1]:
        target.write_bytes(good_bytes[:n])
        _exercise(folder)
        read_fast_header(target, _wanted())  # never raises


def test_random_byte_damage(good_bytes, tmp_path):
    rng = random.Random(7)
    folder = tmp_path / "bad"
    folder.mkdir()
    target = folder / "x.dcm"
    for _ in range(120):
        data = bytearray(good_bytes)
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(128, len(data))] = rng.randrange(256)
        target.write_bytes(bytes(data))
        _exercise(folder)


def test_damaged_radiograph(tmp_path):
    ds = radiograph_dataset(imager_spacing=(0.1, 0.1))
    p = save(ds, tmp_path / "r" / "r.dcm")
    data = p.read_bytes()
    p.write_bytes(data[: len(data) - 30])
    res = scan_paths([tmp_path / "r"])
    entry = res.all_series()[0]
    with pytest.raises(DicomLoadError) as info:
        load_series(entry)
    assert info.value.path == p
    assert np is not None
