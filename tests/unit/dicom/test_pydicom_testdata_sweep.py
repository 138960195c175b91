"""Every file in pydicom's bundled test data must load or be explained: only typed
DicomLoadError subclasses may come out, never a crash, and every file is accounted for."""

import os

import pydicom.data
import pytest

from app.dicom import load_preview, load_series, scan_paths
from app.dicom.errors import DicomLoadError
from app.dicom.model import Radiograph, Volume

FILES = sorted(pydicom.data.get_testdata_files())


def test_there_is_test_data():
    assert len(FILES) > 50


@pytest.mark.parametrize("path", FILES, ids=[os.path.basename(f) for f in FILES])
def test_each_file_loads_or_is_explained(path):
    res = scan_paths([path])
    entries = res.all_series()
    assert res.files_seen >= 1
    # each file is either indexed or listed as skipped with a reason
    indexed = {str(h.path) for e in entries for h in e.instances}
    skipped = {str(s.path): s for s in res.skipped}
    assert os.path.isdir(path) or path in indexed or path in skipped
    if path in skipped:
        assert skipped[path].reason and skipped[path].category in ("not-dicom", "non-image", "error", "duplicate")
    for entry in entries:
        try:
            out = load_series(entry)
        except DicomLoadError as exc:
            assert exc.message and str(exc.path) in str(exc)
            continue
        if isinstance(out, Volume):
            assert out.array.ndim == 3 and out.array.dtype.name != "float64"
            assert out.geometry.shape_ijk == tuple(reversed(out.array.shape))
        else:
            assert out and all(isinstance(r, Radiograph) and r.array.ndim == 2 for r in out)
            assert all(r.calibration is not None for r in out)
        try:
            prev = load_preview(entry)
        except DicomLoadError:
            continue
        assert prev.ndim == 2


def test_whole_folder_scan_accounts_for_every_file():
    folder = os.path.dirname(pydicom.data.get_testdata_file("CT_small.dcm"))
    res = scan_paths([folder])
    n_indexed = sum(len(e.instances) for e in res.all_series())
    assert n_indexed + len(res.skipped) == res.files_seen
    assert n_indexed > 40
