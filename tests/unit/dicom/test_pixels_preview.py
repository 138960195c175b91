"""A series that loads always has a preview (thumbnail), read the way load_series reads it
(issue 11, item 10)."""

import numpy as np

from app.dicom import load_preview, load_series, scan_paths


def test_preview_skips_several_bad_files_when_the_series_loads(writer, tmp_path):
    paths, pixels, _ = writer.stack(9)
    for k in (0, 1, 2, 4, 5):  # the middle file and the first ones are cut short
        data = paths[k].read_bytes()
        paths[k].write_bytes(data[:-40])
    entry = scan_paths([tmp_path]).all_series()[0]
    vol = load_series(entry)
    assert sum(1 for s in vol.sop_instance_uids if s) == 4
    preview = load_preview(entry)
    assert any(np.array_equal(preview, p) for p in (pixels[3], pixels[6], pixels[7], pixels[8]))


def test_preview_of_multiframe_is_its_middle_frame(tmp_path):
    from .conftest import ENHANCED_CT_STORAGE, base_dataset, save, set_pixels

    frames = np.stack([np.full((4, 5), 10 * f, np.int16) for f in range(5)])
    ds = base_dataset(ENHANCED_CT_STORAGE, "CT")
    set_pixels(ds, frames)
    ds.NumberOfFrames = 5
    save(ds, tmp_path / "mf" / "x.dcm")
    entry = scan_paths([tmp_path / "mf"]).all_series()[0]
    np.testing.assert_array_equal(load_preview(entry), frames[2])
