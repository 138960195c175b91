"""Issue 11 item 7: an enhanced multi-frame object with several stacks (echoes, magnitude/phase,
b-values, dimension indices) becomes several loadable stacks instead of one with the rest dropped."""

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from app.dicom import load_preview, load_series, scan_paths
from app.dicom.model import Volume

from .conftest import base_dataset, save

ENHANCED_MR = "1.2.840.10008.5.1.4.1.1.4.1"
N_POS = 4
STEP_MM = 3.0


def _item(**kw) -> Dataset:
    ds = Dataset()
    for k, v in kw.items():
        setattr(ds, k, v)
    return ds


def write_enhanced_mr(path, frames, per_frame_extra, dimension_pointers=None):
    """frames: list of (position index, stack value) in file order; pixel value = 100*(stack+1)+position."""
    ds = base_dataset(ENHANCED_MR, "MR", SeriesDescription="ENH MR MULTI")
    shared = _item(PixelMeasuresSequence=Sequence([_item(PixelSpacing=[0.5, 0.5], SliceThickness=STEP_MM)]),
                   PlaneOrientationSequence=Sequence([_item(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])]))
    per_frame, pixels = [], []
    for pos, stack in frames:
        item = _item(PlanePositionSequence=Sequence([_item(ImagePositionPatient=[0.0, 0.0, STEP_MM * pos])]))
        per_frame_extra(item, pos, stack)
        per_frame.append(item)
        pixels.append(np.full((5, 6), 100 * (stack + 1) + pos, dtype=np.uint16))
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    if dimension_pointers:
        ds.DimensionIndexSequence = Sequence([_item(DimensionIndexPointer=p) for p in dimension_pointers])
    ds.NumberOfFrames = len(frames)
    ds.Rows, ds.Columns = 5, 6
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PixelData = np.stack(pixels).tobytes()
    save(ds, path)


def _interleaved(n_stacks):
    return [(pos, stack) for pos in range(N_POS) for stack in range(n_stacks)]


def _echo(item, pos, stack):
    item.MREchoSequence = Sequence([_item(EffectiveEchoTime=[4.6, 9.2, 13.8][stack])])


def _frame_type(item, pos, stack):
    item.MRImageFrameTypeSequence = Sequence([_item(FrameType=["ORIGINAL", "PRIMARY", ["M", "P"][stack], "NONE"])])


def _diffusion(item, pos, stack):
    item.MRDiffusionSequence = Sequence([_item(DiffusionBValue=[0, 800][stack])])


def _dimension(item, pos, stack):
    item.FrameContentSequence = Sequence([_item(DimensionIndexValues=[stack + 1, pos + 1])])


def _check_stacks(tmp_path, n_stacks, word):
    entries = scan_paths([tmp_path]).all_series()
    assert len(entries) == n_stacks
    assert sum(e.n_images for e in entries) == n_stacks * N_POS
    for e in entries:
        assert f"differ in {word}" in e.split_note and e.split_note.endswith(f"{N_POS} frames of 1 file)")
        vol = load_series(e)
        assert isinstance(vol, Volume) and vol.array.shape[0] == N_POS
        stack = int(vol.array[0, 0, 0]) // 100 - 1
        for k in range(N_POS):  # one stack, every position, true position
            assert int(vol.array[k, 0, 0]) == 100 * (stack + 1) + k
            np.testing.assert_allclose(vol.geometry.ijk_to_lps([0, 0, k]), [0, 0, STEP_MM * k], atol=1e-6)
        assert not any("duplicated" in w for w in vol.warnings)
        preview = load_preview(e)  # the thumbnail shows this stack, not the object's middle frame
        assert int(preview[0, 0]) // 100 - 1 == stack
    return entries


@pytest.mark.parametrize("extra,n_stacks,word", [
    (_echo, 3, "echo"), (_frame_type, 2, "frame"), (_diffusion, 2, "b-value")])
def test_enhanced_object_splits_into_all_its_stacks(tmp_path, extra, n_stacks, word):
    write_enhanced_mr(tmp_path / "enh.dcm", _interleaved(n_stacks), extra)
    _check_stacks(tmp_path, n_stacks, word)


def test_dimension_index_values_split_when_no_other_cue(tmp_path):
    write_enhanced_mr(tmp_path / "enh.dcm", _interleaved(2), _dimension,
                      dimension_pointers=[0x00209056, 0x00209057])  # StackID, InStackPositionNumber
    entries = _check_stacks(tmp_path, 2, "dimension")
    assert sorted(e.instances[0].frame_numbers for e in entries) == [(1, 3, 5, 7), (2, 4, 6, 8)]


def test_single_stack_enhanced_object_is_not_split(tmp_path):
    write_enhanced_mr(tmp_path / "enh.dcm", [(p, 0) for p in range(N_POS)], _echo)
    [entry] = scan_paths([tmp_path]).all_series()
    assert entry.split_note == "" and entry.instances[0].frame_numbers == ()
    assert load_series(entry).array.shape[0] == N_POS
