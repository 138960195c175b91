"""The fast header reader must agree with pydicom on every attribute it keeps, or step aside."""

import os

import pydicom
import pydicom.data
import pytest

from app.dicom.fastheader import Wanted, read_fast_header
from app.dicom.pixels import LOAD_KEYWORDS

FILES = [f for f in sorted(pydicom.data.get_testdata_files()) if os.path.isfile(f)]
WANTED = Wanted(LOAD_KEYWORDS)


def _norm(v):
    if isinstance(v, (bytes, bytearray)):
        return bytes(v)
    if isinstance(v, (list, tuple)) or type(v).__name__ == "MultiValue":
        vals = [_norm(x) for x in v]
        return vals[0] if len(vals) == 1 else vals
    if isinstance(v, float) or type(v).__name__ in ("DSfloat", "DSdecimal"):
        return round(float(v), 6)
    if isinstance(v, int) or type(v).__name__ == "IS":
        return int(v)
    return str(v).strip()


def test_fast_reader_handles_most_files():
    handled = sum(read_fast_header(__import__("pathlib").Path(f), WANTED) is not None for f in FILES)
    assert handled > len(FILES) // 2


@pytest.mark.parametrize("path", FILES, ids=[os.path.basename(f) for f in FILES])
def test_agrees_with_pydicom(path):
    import pathlib

    fast = read_fast_header(pathlib.Path(path), WANTED)
    if fast is None:
        return  # pydicom handles this file
    ref = pydicom.dcmread(path, force=True, stop_before_pixels=True)
    for kw in LOAD_KEYWORDS:
        if kw in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"):
            continue
        if kw not in ref or ref[kw].VR == "SQ":
            continue
        try:
            expected = ref[kw].value
        except Exception:
            continue
        if expected is None or expected == "" or (hasattr(expected, "__len__") and len(expected) == 0):
            continue
        assert kw in fast, kw
        got = fast.get(kw)
        if got is None:  # the fast reader drops values it cannot parse as their VR says
            with pytest.raises(ValueError):
                float(str(expected))
            continue
        assert _norm(got) == _norm(expected), kw
    if "PixelData" in pydicom.dcmread(path, force=True, defer_size=64) and fast.pixel_raw is not None:
        raw = pydicom.dcmread(path, force=True, defer_size=64).get_item(0x7FE00010)
        if raw.value is None:
            assert fast.pixel_raw.value_tell == raw.value_tell


@pytest.mark.parametrize("charset", ["ISO_IR 100", "ISO_IR 192"])
def test_accented_names_decoded_with_their_character_set(tmp_path, charset):
    import pathlib

    from .conftest import CT_STORAGE, base_dataset, save

    ds = base_dataset(CT_STORAGE, "CT")
    ds.SpecificCharacterSet = charset
    ds.PatientName = "Müller^Jürgen"
    ds.SeriesDescription = "Lendenwirbelsäule"
    p = save(ds, tmp_path / "n.dcm")
    fast = read_fast_header(pathlib.Path(p), WANTED)
    assert fast is not None
    assert fast.get("PatientName") == "Müller^Jürgen"
    assert fast.get("SeriesDescription") == "Lendenwirbelsäule"


def test_japanese_character_set_falls_back_to_pydicom(tmp_path):
    import pathlib

    from .conftest import CT_STORAGE, base_dataset, save

    ds = base_dataset(CT_STORAGE, "CT")
    ds.SpecificCharacterSet = ["", "ISO 2022 IR 87"]
    p = save(ds, tmp_path / "j.dcm")
    assert read_fast_header(pathlib.Path(p), WANTED) is None
