"""Malformed header values (multi-valued Rows/Columns/BitsAllocated/SamplesPerPixel, text where a
number belongs) give a typed error naming the file, never TypeError (issue 11, item 2)."""

import numpy as np
import pytest
from pydicom.dataelem import DataElement

from app.dicom import load_preview, load_series, scan_paths
from app.dicom.errors import DicomLoadError

from .conftest import radiograph_dataset, save

BAD_VALUES = [
    ("Rows", "US", [8, 8]),
    ("Columns", "US", [10, 10]),
    ("BitsAllocated", "US", [16, 16]),
    ("SamplesPerPixel", "US", [1, 1]),
    ("PixelRepresentation", "US", [0, 1]),
    ("NumberOfFrames", "IS", ["2", "3"]),
    ("BitsStored", "US", [16, 12]),
]


def _damage(path, keyword, vr, value):
    import pydicom

    ds = pydicom.dcmread(path)
    ds[keyword] = DataElement(ds.data_element(keyword).tag if keyword in ds else
                              pydicom.datadict.tag_for_keyword(keyword), vr, value)
    ds.save_as(path)


@pytest.mark.parametrize("keyword,vr,value", BAD_VALUES, ids=[b[0] for b in BAD_VALUES])
def test_one_bad_file_in_a_series_is_skipped_with_its_name(writer, tmp_path, keyword, vr, value):
    paths, pixels, _ = writer.stack(4)
    _damage(paths[1], keyword, vr, value)
    scanned = scan_paths([tmp_path])
    entries = scanned.all_series()
    vols = []
    for entry in entries:
        try:
            vols.append(load_series(entry))
        except DicomLoadError as exc:
            assert exc.path == paths[1]
    vol = max(vols, key=lambda v: v.array.shape[0])
    np.testing.assert_array_equal(vol.array[0], pixels[0])
    skipped_by_scan = any(s.path == paths[1] for s in scanned.skipped)
    if skipped_by_scan:  # the scan listed it as a damaged header, with its reason
        assert vol.array.shape[0] == 3
    elif len(entries) == 1:  # the scan kept the damaged file in the series: loading names it
        assert any(paths[1].name in w for w in vol.warnings)


@pytest.mark.parametrize("keyword,vr,value", BAD_VALUES, ids=[b[0] for b in BAD_VALUES])
def test_single_bad_radiograph_is_a_typed_error(tmp_path, keyword, vr, value):
    p = save(radiograph_dataset(imager_spacing=(0.1, 0.1)), tmp_path / "dx" / "r.dcm")
    _damage(p, keyword, vr, value)
    for entry in scan_paths([tmp_path]).all_series():
        for fn in (load_series, load_preview):
            try:
                fn(entry)
            except DicomLoadError as exc:
                assert exc.path == p and exc.message
