"""Issue 11 item 4: a series with two images at every position is split into consistent stacks
(ImageType, vendor private type tags, instance-number blocks), each saying why; never interleaved."""

import numpy as np
from pydicom.dataset import Dataset

from app.dicom import load_series, scan_paths
from app.dicom.repeats import GUESS_WARNING

from .conftest import AXIAL, MR_STORAGE, base_dataset, save, set_pixels

SERIES = "1.2.826.0.1.3680043.8.498.444"


def _write(tmp_path, images):
    """images: (instance number, z position mm, pixel value, extra attributes setter) per file."""
    for n, z, value, extra in images:
        ds = base_dataset(MR_STORAGE, "MR", SeriesInstanceUID=SERIES, SeriesDescription="FIELD MAP")
        ds.InstanceNumber = n
        ds.ImagePositionPatient = [0.0, 0.0, float(z)]
        ds.ImageOrientationPatient = list(AXIAL)
        ds.PixelSpacing = [1.0, 1.0]
        ds.EchoNumbers = 1
        set_pixels(ds, np.full((4, 4), value, dtype=np.int16))
        extra(ds)
        save(ds, tmp_path / f"IM{n:03d}")


def _image_type(kind):
    def set_(ds: Dataset) -> None:
        ds.ImageType = ["ORIGINAL", "PRIMARY", kind, "ND"]
    return set_


def _ge_type(code):
    def set_(ds: Dataset) -> None:
        ds.private_block(0x0043, "GEMS_PARM_01", create=True).add_new(0x2F, "SS", code)
    return set_


def _stacks_are_pure(entries, n_positions):
    """Each stack is one kind of image (one pixel value) and holds each position once."""
    for e in entries:
        vol = load_series(e)
        assert vol.array.shape[0] == n_positions
        assert len(np.unique(vol.array)) == 1, "stack mixes two kinds of image"
        assert not any("duplicated slice position" in w for w in vol.warnings)


def test_image_type_separates_interleaved_magnitude_and_phase(tmp_path):
    images = []
    for k in range(5):  # M and P alternate in instance order, same echo/acquisition
        images.append((2 * k + 1, 3.0 * k, 100, _image_type("M")))
        images.append((2 * k + 2, 3.0 * k, 900, _image_type("P")))
    _write(tmp_path, images)
    entries = scan_paths([tmp_path]).all_series()
    assert len(entries) == 2
    assert all("differ in ImageType" in e.split_note for e in entries)
    assert {e.split_note.split("(")[1].split(",")[0] for e in entries} == {
        "ImageType ORIGINAL\\PRIMARY\\M\\ND", "ImageType ORIGINAL\\PRIMARY\\P\\ND"}
    _stacks_are_pure(entries, 5)


def test_ge_private_image_type_separates_when_image_type_is_equal(tmp_path):
    images = []
    for k in range(4):
        images.append((2 * k + 1, 3.0 * k, 100, _ge_type(0)))
        images.append((2 * k + 2, 3.0 * k, 900, _ge_type(1)))
    _write(tmp_path, images)
    entries = scan_paths([tmp_path]).all_series()
    assert len(entries) == 2
    labels = sorted(e.split_note for e in entries)
    assert "vendor image type magnitude (GE)" in labels[0] and "vendor image type phase (GE)" in labels[1]
    _stacks_are_pure(entries, 4)


def test_instance_number_blocks_split_without_header_cues_and_warn(tmp_path):
    images = [(k + 1, 3.0 * k, 100, lambda ds: None) for k in range(6)]
    images += [(k + 7, 3.0 * k, 900, lambda ds: None) for k in range(6)]
    _write(tmp_path, images)
    entries = scan_paths([tmp_path]).all_series()
    assert len(entries) == 2
    assert sorted(e.split_note.split("(")[1].split(",")[0] for e in entries) == [
        "instance-number block 1-6", "instance-number block 7-12"]
    assert all(GUESS_WARNING in e.warnings for e in entries)
    _stacks_are_pure(entries, 6)


def test_interleaved_without_cues_takes_nth_image_at_each_position(tmp_path):
    images = []
    for k in range(5):
        images.append((2 * k + 1, 3.0 * k, 100, lambda ds: None))
        images.append((2 * k + 2, 3.0 * k, 900, lambda ds: None))
    _write(tmp_path, images)
    entries = scan_paths([tmp_path]).all_series()
    assert len(entries) == 2 and all(GUESS_WARNING in e.warnings for e in entries)
    _stacks_are_pure(entries, 5)


def test_one_isolated_duplicate_is_not_split(tmp_path):
    images = [(k + 1, 3.0 * k, 100, lambda ds: None) for k in range(6)] + [(7, 6.0, 100, lambda ds: None)]
    _write(tmp_path, images)
    [entry] = scan_paths([tmp_path]).all_series()
    assert entry.split_note == ""
