"""A small synthetic lumbar study written with pydicom for the viewer's GUI tests and benches
(DX AP/LAT/obliques, a CT axial bone series, an MR sagittal STIR)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

CT_MIDLINE_X = 5.0  # mm (LPS x of the phantom's canal midline)
CT_SHAPE = (128, 112, 60)  # columns, rows, slices
CT_SPACING = (1.0, 1.0, 1.5)
CT_ORIGIN = (-60.0, -70.0, 100.0)
CT_FOR = "1.2.826.0.1.3680043.8.498.1001"
MR_FOR = "1.2.826.0.1.3680043.8.498.1002"


def _uid(n: str) -> str:
    return "1.2.826.0.1.3680043.8.498." + n


def _base(sop_class: str, sop_uid: str, series_uid: str, modality: str, desc: str, series_number: int):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.PatientName = "PHANTOM^LUMBAR"
    ds.PatientID = "SYN001"
    ds.PatientBirthDate = "20050101"
    ds.PatientSex = "M"
    ds.StudyInstanceUID = _uid("1")
    ds.StudyDate = "20260101"
    ds.StudyDescription = "LUMBAR SPINE"
    ds.AccessionNumber = "A1"
    ds.StudyID = "1"
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = series_number
    ds.SeriesDescription = desc
    ds.Modality = modality
    return ds


def _pixels(ds, arr: np.ndarray, signed: bool) -> None:
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = arr.shape
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1 if signed else 0
    ds.PixelData = arr.astype(np.int16 if signed else np.uint16).tobytes()


def ct_phantom(shape=CT_SHAPE, spacing=CT_SPACING) -> np.ndarray:
    """[k, j, i] HU: body ellipse, vertebral body, two pars columns at midline +/- 14 mm."""
    ni, nj, nk = shape
    x = CT_ORIGIN[0] + np.arange(ni) * spacing[0]
    y = CT_ORIGIN[1] + np.arange(nj) * spacing[1]
    X, Y = np.meshgrid(x, y)
    img = np.full((nj, ni), -1000.0, dtype=np.float32)
    img[((X - CT_MIDLINE_X) / 55) ** 2 + ((Y + 10) / 45) ** 2 < 1] = 40
    for s in (-14, 14):
        img[(np.abs(X - CT_MIDLINE_X - s) < 3) & (np.abs(Y - 8) < 8)] = 1100  # pars / posterior arch
    vol = np.repeat(img[None], nk, axis=0)
    body = ((X - CT_MIDLINE_X) / 20) ** 2 + ((Y + 25) / 15) ** 2 < 1
    vol[:, body] = 300.0 + (10.0 * np.arange(nk) % 600)[:, None]  # body density changes along z
    return vol.astype(np.int16)


def write_ct(folder: Path, n_slices: int | None = None, matrix: int | None = None) -> list[Path]:
    """CT axial series; ``matrix`` (columns = rows) keeps the field of view (finer pixels)."""
    ni, nj, nk = CT_SHAPE
    spacing = CT_SPACING
    if matrix is not None:
        spacing = (CT_SPACING[0] * ni / matrix, CT_SPACING[1] * ni / matrix, CT_SPACING[2])
        ni = nj = matrix
    vol = ct_phantom((ni, nj, n_slices or nk), spacing)
    folder.mkdir(parents=True, exist_ok=True)
    series = _uid("2")
    paths = []
    for k in range(vol.shape[0]):
        ds = _base("1.2.840.10008.5.1.4.1.1.2", _uid(f"2.{k + 1}"), series, "CT", "AX BONE 1.0", 2)
        ds.FrameOfReferenceUID = CT_FOR
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [CT_ORIGIN[0], CT_ORIGIN[1], CT_ORIGIN[2] + k * spacing[2]]
        ds.PixelSpacing = [spacing[1], spacing[0]]
        ds.SliceThickness = spacing[2]
        ds.InstanceNumber = k + 1
        ds.RescaleIntercept = 0
        ds.RescaleSlope = 1
        ds.WindowCenter = 40
        ds.WindowWidth = 400
        _pixels(ds, vol[k], signed=True)
        p = folder / f"ct_{k:04d}.dcm"
        ds.save_as(p, enforce_file_format=True)
        paths.append(p)
    return paths


def write_dx(folder: Path, desc: str, n: int, view_position: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows, cols = 240, 200
    yy, xx = np.mgrid[0:rows, 0:cols]
    arr = (800 + 6 * xx + 3 * yy + 400 * (((xx - 100) / 30.0) ** 2 + ((yy - 120) / 60.0) ** 2 < 1)).astype(np.uint16)
    ds = _base("1.2.840.10008.5.1.4.1.1.1.1", _uid(f"3.{n}.1"), _uid(f"3.{n}"), "DX", desc, 10 + n)
    ds.ImagerPixelSpacing = [0.15, 0.15]
    ds.EstimatedRadiographicMagnificationFactor = 1.15
    ds.PatientOrientation = ["L", "F"]
    if view_position:
        ds.ViewPosition = view_position
    ds.WindowCenter = 1700
    ds.WindowWidth = 2000
    ds.InstanceNumber = 1
    _pixels(ds, arr, signed=False)
    p = folder / f"dx_{n}.dcm"
    ds.save_as(p, enforce_file_format=True)
    return p


def write_mr(folder: Path, desc: str = "SAG STIR", n: int = 12) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    series = _uid("4")
    paths = []
    rows, cols = 96, 80
    yy, xx = np.mgrid[0:rows, 0:cols]
    for k in range(n):
        arr = (100 + 5 * k + 300 * (((xx - 40) / 12.0) ** 2 + ((yy - 48) / 40.0) ** 2 < 1)).astype(np.uint16)
        ds = _base("1.2.840.10008.5.1.4.1.1.4", _uid(f"4.{k + 1}"), series, "MR", desc, 4)
        ds.FrameOfReferenceUID = MR_FOR
        ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
        ds.ImagePositionPatient = [-22.0 + 4.0 * k, -40.0, 160.0]
        ds.PixelSpacing = [1.0, 1.0]
        ds.SliceThickness = 4.0
        ds.InstanceNumber = k + 1
        ds.ScanningSequence = "IR"
        ds.InversionTime = 150
        ds.EchoTime = 60
        ds.RepetitionTime = 4000
        _pixels(ds, arr, signed=False)
        p = folder / f"mr_{k:03d}.dcm"
        ds.save_as(p, enforce_file_format=True)
        paths.append(p)
    return paths


def write_study(root: Path, with_right_oblique: bool = True) -> Path:
    write_ct(root / "ct")
    write_dx(root / "dx", "L-SPINE AP", 1, "AP")
    write_dx(root / "dx", "L-SPINE LAT", 2, "LL")
    write_dx(root / "dx", "L-SPINE LT OBL", 3)
    if with_right_oblique:
        write_dx(root / "dx", "L-SPINE RT OBL", 4)
    write_mr(root / "mr")
    return root


def study_loaded(win) -> bool:
    """True once every protocol cell that holds a series shows the full series (not its preview)."""
    if win.presenter.study is None:
        return False
    return all(v.display is not None and v.display.kind != "preview"
               for v in win.grid.views() if v.cell is not None and v.cell.series_key)
