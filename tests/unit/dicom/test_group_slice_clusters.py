"""Issue 11 item 6 (scan side): far-apart slice clusters in one series become separate stacks with
their true positions and a note; a short gap stays one stack (missing slices)."""

import numpy as np
import pytest

from app.dicom import load_series, scan_paths


def test_two_far_apart_slabs_become_two_stacks_with_true_positions(writer, tmp_path):
    zs = [0.0, 3.0, 6.0, 9.0, 90.0, 93.0, 96.0]
    writer.stack(positions=[[0.0, 0.0, z] for z in zs], modality="MR", SeriesDescription="AX T2 SLABS")
    entries = scan_paths([tmp_path]).all_series()
    assert len(entries) == 2
    notes = sorted(e.split_note for e in entries)
    assert "differ in position" in notes[0]
    assert "position slab 1 of 2: 4 slice(s) from 0 to 9 mm" in notes[0] and "81 mm gap" in notes[0]
    assert "position slab 2 of 2: 3 slice(s) from 90 to 96 mm" in notes[1]
    for e in entries:
        vol = load_series(e)
        first_z = min(h.image_position_lps[2] for h in e.instances)
        for k in range(vol.array.shape[0]):  # every slice at its true position, 3 mm apart
            np.testing.assert_allclose(vol.geometry.ijk_to_lps([0, 0, k]), [0.0, 0.0, first_z + 3.0 * k], atol=1e-6)
        assert not any("non-uniform" in w or "missing slice" in w for w in vol.warnings)


def test_short_gap_stays_one_stack(writer, tmp_path):
    zs = [0.0, 2.5, 5.0, 10.0, 12.5]  # one missing slice
    writer.stack(positions=[[0.0, 0.0, z] for z in zs])
    [entry] = scan_paths([tmp_path]).all_series()
    assert entry.split_note == ""


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 1e308])
def test_unusable_position_is_set_apart_and_the_rest_keeps_its_geometry(writer, tmp_path, bad):
    zs = [0.0, 2.5, bad, 5.0, 7.5]
    writer.stack(positions=[[0.0, 0.0, z] for z in zs])
    entries = scan_paths([tmp_path]).all_series()
    assert len(entries) == 2
    good = next(e for e in entries if len(e.instances) == 4)
    odd = next(e for e in entries if len(e.instances) == 1)
    assert "position unknown" in odd.split_note and odd.instances[0].image_position_lps is None
    vol = load_series(good)
    for k in range(4):
        np.testing.assert_allclose(vol.geometry.ijk_to_lps([0, 0, k]), [0.0, 0.0, 2.5 * k], atol=1e-6)
    assert not any("non-uniform" in w or "no usable" in w for w in vol.warnings)


def test_spacing_that_changes_along_the_series_is_not_cut_into_slabs(writer, tmp_path):
    zs = [float(z) for z in range(11)] + [17.0, 24.0, 31.0, 38.0]  # 1 mm, then 7 mm (variable spacing)
    writer.stack(positions=[[0.0, 0.0, z] for z in zs])
    [entry] = scan_paths([tmp_path]).all_series()
    assert entry.split_note == "" and len(entry.instances) == 15
