"""Enhanced multi-frame CT with per-frame and shared functional groups."""

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from app.dicom import load_preview, load_series, scan_paths
from app.dicom.model import Plane, Volume

from .conftest import ENHANCED_CT_STORAGE, base_dataset, save, slice_pixels


def _item(**kw) -> Dataset:
    ds = Dataset()
    for k, v in kw.items():
        setattr(ds, k, v)
    return ds


def write_enhanced_ct(path, frame_order, rows=6, cols=7, step=1.25, iop=(0, 1, 0, 0, 0, -1)):
    ds = base_dataset(ENHANCED_CT_STORAGE, "CT", SeriesDescription="ENH CT")
    normal = np.cross(iop[:3], iop[3:])
    origin = np.array([5.0, -3.0, 12.0])
    shared = _item(
        PixelMeasuresSequence=Sequence([_item(PixelSpacing=[0.5, 0.4], SliceThickness=step)]),
        PlaneOrientationSequence=Sequence([_item(ImageOrientationPatient=list(iop))]),
        PixelValueTransformationSequence=Sequence([_item(RescaleSlope=1, RescaleIntercept=-1024,
                                                         RescaleType="HU")]),
        FrameVOILUTSequence=Sequence([_item(WindowCenter=300, WindowWidth=1500)]),
    )
    per_frame = []
    frames = []
    for k in frame_order:
        pos = origin + k * step * normal
        per_frame.append(_item(PlanePositionSequence=Sequence([_item(ImagePositionPatient=[float(v) for v in pos])])))
        frames.append(slice_pixels(k, rows, cols) + 1024)
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    ds.NumberOfFrames = len(frame_order)
    ds.FrameOfReferenceUID = "1.2.3.4.5.6"
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.PixelData = np.stack(frames).astype("<i2").tobytes()
    save(ds, path)
    return origin, normal


def test_enhanced_ct_frames_ordered_by_plane_position(tmp_path):
    order = [3, 0, 4, 1, 2]
    origin, normal = write_enhanced_ct(tmp_path / "enh.dcm", order)
    res = scan_paths([tmp_path])
    entry = res.all_series()[0]
    assert entry.n_images == 5 and entry.plane is Plane.SAGITTAL
    vol = load_series(entry)
    assert isinstance(vol, Volume)
    assert vol.array.shape == (5, 6, 7) and vol.array.dtype == np.int16
    for k in range(5):
        np.testing.assert_array_equal(vol.array[k], slice_pixels(k, 6, 7))  # +1024 - 1024
        np.testing.assert_allclose(vol.geometry.ijk_to_lps([0, 0, k]), origin + k * 1.25 * normal, atol=1e-6)
    assert vol.frame_numbers == [order.index(k) + 1 for k in range(5)]
    assert len(set(vol.sop_instance_uids)) == 1
    np.testing.assert_allclose(vol.geometry.spacing_mm, [0.4, 0.5, 1.25])
    assert vol.window_center_width == (300.0, 1500.0)
    assert vol.units == "HU" and vol.plane is Plane.SAGITTAL
    assert vol.warnings == []
    prev = load_preview(entry)
    assert prev.shape == (6, 7)
