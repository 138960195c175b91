"""Write the rendered sample images as DICOM (CT Image, MR Image, DX Image For Presentation)
with pydicom, deterministically: UIDs derive from the case seed (2.25 scheme), dates are fixed,
and pixel data is JPEG 2000 compressed (lossless for MR, lossy and labelled so for DX and CT).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import generate_frames as generate_frames_encapsulated
from pydicom.sequence import Sequence
from pydicom.uid import (
    JPEG2000,
    CTImageStorage,
    DigitalXRayImageStorageForPresentation,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    MRImageStorage,
)

from app.samples.cases import CaseSpec
from app.samples.render_common import VolumeGeometry

# JPEG 2000 lossless (pylibjpeg-openjpeg) for MR; lossy JPEG 2000 (ISO 15444-1, irreversible
# 9/7 wavelet) at a fixed target ratio for the large radiographs and the thin-slice CT, which
# keeps sample_dicom/ inside its size budget. The lossy error (DX: SD ~16 of 4000 display units;
# CT: SD ~8 HU under 30 HU of noise) does not change what the images show.
TRANSFER_SYNTAX = JPEG2000Lossless
LOSSY_RATIO = {"DX": 8.0, "CT": 8.0}  # target compression ratios (uncompressed 16-bit / coded)
STUDY_TIME = "091500"
INSTITUTION = "Isthmus synthetic phantom"
MANUFACTURER = "Isthmus"
MODEL = "Isthmus lumbar phantom"
SOFTWARE = "isthmus samples 1"


def uid(case: CaseSpec, *parts: object) -> str:
    """A deterministic 2.25 UID from the case seed and ``parts``."""
    # pydicom ignores entropy_srcs when prefix is None (it returns a random UUID UID), so the
    # 2.25 UID is built here from a hash of the sources: same case and parts -> same UID.
    digest = hashlib.sha256("\x00".join(["isthmus-sample", str(case.seed), *[str(p) for p in parts]]).encode()).digest()
    return "2.25." + str(int.from_bytes(digest[:16], "big"))


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    d = Dataset()
    d.CodeValue = value
    d.CodingSchemeDesignator = scheme
    d.CodeMeaning = meaning
    return d


def _base(case: CaseSpec, modality: str, sop_class: str, series_key: str, series_number: int,
          series_description: str, instance: int, frame_of_reference: str | None) -> Dataset:
    sop_uid = uid(case, series_key, "instance", instance)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = "2.25.300842187410462711298826335912412345671"
    meta.ImplementationVersionName = "ISTHMUS_1"
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL" if modality == "CT" else ""]
    if modality != "CT":
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = case.study_date
    ds.SeriesDate = case.study_date
    ds.ContentDate = case.study_date
    ds.StudyTime = STUDY_TIME
    ds.SeriesTime = f"{int(STUDY_TIME[:2]):02d}{10 + series_number:02d}00"
    ds.ContentTime = ds.SeriesTime
    ds.AccessionNumber = f"ISTH{case.number:02d}"
    ds.Modality = modality
    ds.Manufacturer = MANUFACTURER
    ds.InstitutionName = INSTITUTION
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "LUMBAR SPINE (SYNTHETIC TRAINING CASE)"
    ds.SeriesDescription = series_description
    ds.ManufacturerModelName = MODEL
    ds.PatientName = case.patient_name
    ds.PatientID = case.patient_id
    ds.PatientBirthDate = f"{int(case.study_date[:4]) - int(case.age_years) - 1}0601"
    ds.PatientSex = case.sex
    ds.PatientAge = f"{int(case.age_years):03d}Y"
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "Synthetic phantom data, no real patient"
    ds.BodyPartExamined = "LSPINE"
    ds.SoftwareVersions = SOFTWARE
    ds.StudyInstanceUID = uid(case, "study")
    ds.SeriesInstanceUID = uid(case, series_key, "series")
    ds.StudyID = f"{case.number:02d}"
    ds.SeriesNumber = series_number
    ds.InstanceNumber = instance
    if frame_of_reference:
        ds.FrameOfReferenceUID = frame_of_reference
        ds.PositionReferenceIndicator = ""
    ds.PatientPosition = "FFS" if modality in ("CT", "MR") else None
    if ds.PatientPosition is None:
        del ds.PatientPosition
    ds.BurnedInAnnotation = "NO"
    return ds


def _pixels(ds: Dataset, arr: np.ndarray, bits_stored: int, signed: bool = False,
            lossy_ratio: float | None = None) -> None:
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = int(arr.shape[0]), int(arr.shape[1])
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    data = np.ascontiguousarray(arr.astype(np.int16 if signed else np.uint16))
    ds.PixelData = data.tobytes()
    if lossy_ratio is None:
        ds.compress(TRANSFER_SYNTAX, generate_instance_uid=False)
        ds.LossyImageCompression = "00"
        return
    ds.compress(JPEG2000, j2k_cr=[lossy_ratio], generate_instance_uid=False)
    coded = sum(len(f) for f in generate_frames_encapsulated(ds.PixelData))
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionRatio = _ds(round(data.nbytes / coded, 2))
    ds.LossyImageCompressionMethod = "ISO_15444_1"


def _geometry(ds: Dataset, geo: VolumeGeometry, k: int) -> None:
    ds.ImageOrientationPatient = [f"{v:.6f}".rstrip("0").rstrip(".") if v else "0" for v in geo.row_cosine + geo.col_cosine]
    ds.ImagePositionPatient = [_ds(v) for v in geo.positions[k]]
    ds.PixelSpacing = [_ds(geo.pixel_spacing[0]), _ds(geo.pixel_spacing[1])]
    ds.SliceThickness = _ds(geo.slice_thickness)
    ds.SpacingBetweenSlices = _ds(geo.slice_spacing)
    normal = np.cross(geo.row_cosine, geo.col_cosine)
    ds.SliceLocation = _ds(float(np.dot(normal, geo.positions[k])))


def _ds(v: float) -> str:
    s = f"{v:.4f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _write(ds: Dataset, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


# --------------------------------------------------------------------------- CT


def write_ct(case: CaseSpec, hu: np.ndarray, geo: VolumeGeometry, folder: Path, frame_of_reference: str) -> list[Path]:
    paths = []
    desc = f"AX BONE {geo.slice_thickness:.2f}".rstrip("0").rstrip(".")
    for k in range(hu.shape[0]):
        ds = _base(case, "CT", CTImageStorage, "ct", 3, desc, k + 1, frame_of_reference)
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.AcquisitionNumber = 1
        ds.ScanOptions = "HELICAL MODE"
        ds.KVP = "120"
        ds.DataCollectionDiameter = "500"
        ds.ReconstructionDiameter = _ds(hu.shape[2] * geo.pixel_spacing[1])
        ds.GantryDetectorTilt = "0"
        ds.TableHeight = "150"
        ds.RotationDirection = "CW"
        ds.ExposureTime = "1000"
        ds.XRayTubeCurrent = "250"
        ds.Exposure = "250"
        ds.ConvolutionKernel = "BONE"
        ds.FilterType = "BODY FILTER"
        ds.ProtocolName = "L-SPINE BONE"
        ds.PatientPosition = "FFS"
        _geometry(ds, geo, k)
        ds.RescaleIntercept = "-1024"
        ds.RescaleSlope = "1"
        ds.RescaleType = "HU"
        ds.WindowCenter = ["500", "40"]
        ds.WindowWidth = ["2000", "400"]
        ds.WindowCenterWidthExplanation = ["BONE", "SOFT TISSUE"]
        _pixels(ds, np.clip(hu[k].astype(np.int32) + 1024, 0, 4095), 12, lossy_ratio=LOSSY_RATIO["CT"])
        p = folder / f"CT{k + 1:04d}.dcm"
        _write(ds, p)
        paths.append(p)
    return paths


# --------------------------------------------------------------------------- MR

MR_PARAMS = {
    # sequence: (series no, description, ScanningSequence, SequenceVariant, ScanOptions, TR, TE, TI, ETL, flip)
    "T1": (4, "SAG T1", ["SE"], ["SK"], "", 550, 10, None, 3, 90),
    "T2": (5, "SAG T2", ["SE"], ["SK"], "", 3500, 100, None, 17, 90),
    "STIR": (6, "SAG STIR", ["IR", "SE"], ["SK"], "", 4000, 60, 150, 15, 90),
}


# The stored MR window is set as a reader sets it, from the spine, not from the whole image:
# bowel fluid and the flanks' fat are bright on T2 / STIR and a whole-image percentile let them
# set the top, so marrow oedema sat low in a wide window (issue 18 review). The region: the
# vertebral bodies and the canal (anterior body surface - 5 mm to 22 mm behind the posterior
# body surface) over L1-S1, on the middle slices (|x| < 12 mm). Its bright end (CSF and the
# nucleus on T2 / STIR) is put at MR_WINDOW_TOP of the window's top, so fluid is white and
# oedema, at about half the CSF signal on STIR, lands in the upper grey values; T1 keeps the
# whole region's range (fat is its brightest tissue and must not clip). The bottom is the
# region's dark end (cortex, fat on STIR), so normal marrow is dark on STIR.
MR_WINDOW_PERCENTILES = (1.0, 99.5)
MR_WINDOW_TOP = {"T1": 1.0, "T2": 0.85, "STIR": 0.7}


def mr_window(case: CaseSpec, sequence: str, sig: np.ndarray, geo: VolumeGeometry) -> tuple[float, float]:
    """(lowest, highest) stored value of the MR window: from the spine region (above)."""
    from app.findings.model import Level
    from app.samples.phantom import model_for

    g = model_for(case).geometry
    poses = [g.poses[lv] for lv in (Level.L1, Level.L2, Level.L3, Level.L4, Level.L5, Level.S1)]
    y_front = min(float(p.origin[1] - p.half[1]) for p in poses) - 5.0
    y_back = max(float(p.origin[1] + p.half[1]) for p in poses) + 22.0
    z_top = float(poses[0].origin[2] + poses[0].half[2])
    z_bottom = float(poses[-1].origin[2] - poses[-1].half[2])
    _x0, y0, zfirst = geo.positions[0]
    row_mm, col_mm = geo.pixel_spacing
    y = y0 + col_mm * np.arange(sig.shape[2])  # columns run along +y (anterior to posterior)
    z = zfirst - row_mm * np.arange(sig.shape[1])  # rows run along -z
    x = np.array([p[0] for p in geo.positions])
    region = sig[np.abs(x) < 12.0][:, (z <= z_top) & (z >= z_bottom)][:, :, (y >= y_front) & (y <= y_back)]
    if region.size == 0:
        region = sig
    lo, hi = (float(v) for v in np.percentile(region, MR_WINDOW_PERCENTILES))
    hi = lo + (hi - lo) * MR_WINDOW_TOP[sequence]
    return lo, max(hi, lo + 1.0)


def write_mr(case: CaseSpec, sequence: str, sig: np.ndarray, geo: VolumeGeometry, folder: Path,
             frame_of_reference: str) -> list[Path]:
    number, desc, scanning, variant, options, tr, te, ti, etl, flip = MR_PARAMS[sequence]
    paths = []
    window_lo, window_hi = mr_window(case, sequence, sig, geo)
    for k in range(sig.shape[0]):
        ds = _base(case, "MR", MRImageStorage, f"mr-{sequence}", number, desc, k + 1, frame_of_reference)
        ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
        ds.ScanningSequence = scanning
        ds.SequenceVariant = variant
        ds.ScanOptions = options
        ds.MRAcquisitionType = "2D"
        ds.SequenceName = {"T1": "tse_T1", "T2": "tse_T2", "STIR": "tir_STIR"}[sequence]
        ds.RepetitionTime = _ds(tr)
        ds.EchoTime = _ds(te)
        if ti is not None:
            ds.InversionTime = _ds(ti)
        ds.EchoTrainLength = etl
        ds.NumberOfAverages = "2"
        ds.ImagingFrequency = "63.87"
        ds.ImagedNucleus = "1H"
        ds.EchoNumbers = "1"
        ds.MagneticFieldStrength = "1.5"
        ds.FlipAngle = _ds(flip)
        ds.ReceiveCoilName = "SPINE"
        ds.TransmitCoilName = "BODY"
        ds.InPlanePhaseEncodingDirection = "ROW"
        ds.PercentPhaseFieldOfView = "100"
        ds.PixelBandwidth = "200"
        ds.ProtocolName = f"L-SPINE {desc}"
        ds.AcquisitionNumber = 1
        ds.PatientPosition = "FFS"
        _geometry(ds, geo, k)
        ds.WindowCenter = _ds(round((window_lo + window_hi) / 2))
        ds.WindowWidth = _ds(round(window_hi - window_lo))
        _pixels(ds, sig[k], 12)
        p = folder / f"MR{k + 1:04d}.dcm"
        _write(ds, p)
        paths.append(p)
    return paths


# --------------------------------------------------------------------------- DX

DX_VIEWS = {
    # key: (series no, description, ViewPosition, view code, code meaning, PatientOrientation, laterality)
    "AP": (1, "L-SPINE AP", "AP", "R-10206", "antero-posterior", ["L", "F"], ""),
    "LAT": (2, "L-SPINE LAT", "LL", "R-10232", "left lateral", ["P", "F"], ""),
    "LT OBL": (7, "L-SPINE LT OBL", "LLO", "R-10242", "left posterior oblique", ["LA", "F"], "L"),
    "RT OBL": (8, "L-SPINE RT OBL", "RLO", "R-10248", "right posterior oblique", ["LP", "F"], "R"),
}
_SCT_VIEW = {"R-10206": "399348003", "R-10232": "399198007", "R-10242": "399006002", "R-10248": "399038007"}


# VOI of a radiograph: the anatomy is every pixel brighter than the air beside the body (the
# darkest 0.5 % of the image plus 4 % of the stored range); the window spans its 1st to 99.7th
# percentile, so the viewer opens on the anatomy's own contrast, not on the full 12-bit range.
DX_AIR_MARGIN = 0.04
DX_VOI_PERCENTILES = (1.0, 99.7)


def dx_voi_window(img: np.ndarray, bits_stored: int = 12) -> tuple[float, float]:
    """(WindowCenter, WindowWidth) of a radiograph from its own histogram of the anatomy."""
    a = np.asarray(img, dtype=np.float64)
    air = float(np.percentile(a, 0.5)) + DX_AIR_MARGIN * (2 ** bits_stored)
    anatomy = a[a > air]
    if anatomy.size < a.size // 20:  # (almost) no anatomy: the full range
        return float(2 ** (bits_stored - 1)), float(2 ** bits_stored)
    lo, hi = (float(v) for v in np.percentile(anatomy, DX_VOI_PERCENTILES))
    width = max(round(hi - lo), 2)
    return float(round(lo + width / 2)), float(width)


def write_dx(case: CaseSpec, view_key: str, img: np.ndarray, folder: Path, imager_pixel_mm: float,
             magnification: float) -> Path:
    number, desc, position, srt, meaning, orient, laterality = DX_VIEWS[view_key]
    ds = _base(case, "DX", DigitalXRayImageStorageForPresentation, f"dx-{view_key}", number, desc, 1, None)
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.AcquisitionDeviceProcessingDescription = "SYNTHETIC DRR, EDGE ENHANCED"
    ds.ProtocolName = desc
    ds.ViewPosition = position
    ds.ViewCodeSequence = Sequence([_code(_SCT_VIEW[srt], "SCT", meaning)])
    ds.ViewCodeSequence[0].ViewModifierCodeSequence = Sequence()
    ds.PatientOrientation = orient
    ds.ImageLaterality = laterality or "U"
    ds.AnatomicRegionSequence = Sequence([_code("122496007", "SCT", "Lumbar spine")])
    ds.PatientOrientationCodeSequence = Sequence([_code("C86043", "NCIt", "erect")])
    ds.AcquisitionContextSequence = Sequence()
    ds.KVP = "85"
    ds.ExposureTime = "100"
    ds.XRayTubeCurrent = "320"
    ds.Exposure = "32"
    ds.DistanceSourceToDetector = "1150"
    ds.DistanceSourceToPatient = "1000"
    ds.EstimatedRadiographicMagnificationFactor = _ds(magnification)
    ds.ImagerPixelSpacing = [_ds(imager_pixel_mm), _ds(imager_pixel_mm)]
    ds.DetectorType = "SCINTILLATOR"
    ds.DetectorConfiguration = "AREA"
    ds.DetectorID = "ISTHMUS-DRR"
    ds.DetectorActiveShape = "RECTANGLE"
    ds.DetectorActiveDimensions = [_ds(img.shape[0] * imager_pixel_mm), _ds(img.shape[1] * imager_pixel_mm)]
    ds.DetectorElementSpacing = [_ds(imager_pixel_mm), _ds(imager_pixel_mm)]
    ds.Grid = "FOCUSED"
    ds.FieldOfViewShape = "RECTANGLE"
    ds.FieldOfViewDimensions = [int(round(img.shape[0] * imager_pixel_mm)), int(round(img.shape[1] * imager_pixel_mm))]
    ds.PositionerType = "COLUMN"
    ds.PixelIntensityRelationship = "LOG"
    ds.PixelIntensityRelationshipSign = 1
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = "1"
    ds.RescaleType = "US"
    ds.PresentationLUTShape = "IDENTITY"
    centre, width = dx_voi_window(img)
    ds.WindowCenter = [_ds(centre), "2048"]
    ds.WindowWidth = [_ds(width), "4096"]
    ds.WindowCenterWidthExplanation = ["ANATOMY", "FULL RANGE"]
    ds.QualityControlImage = "NO"
    _pixels(ds, img, 12, lossy_ratio=LOSSY_RATIO["DX"])
    p = folder / "DX0001.dcm"
    _write(ds, p)
    return p
