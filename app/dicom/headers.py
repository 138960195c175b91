"""Header-only reading of one file for the index (no pixel data), and non-image detection."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from app.dicom.bounded_io import open_bounded
from app.dicom.fastheader import FastHeader, HeaderDamaged, Wanted, read_fast_header
from app.dicom.header_checks import layout_problem
from app.dicom.model import InstanceHeader, SkippedFile
from app.dicom.repeats import VENDOR_TYPE_TAGS

# Tags the index needs. Reading only these (pydicom skips the values of all others) keeps the
# header scan fast.
HEADER_KEYWORDS = [
    "SpecificCharacterSet", "ImageType", "SOPClassUID", "SOPInstanceUID", "StudyDate", "Modality",
    "AccessionNumber", "StudyDescription", "SeriesDescription", "ProtocolName",
    "AcquisitionDeviceProcessingDescription", "PatientName", "PatientID", "PatientBirthDate",
    "PatientSex", "ScanningSequence", "SequenceVariant", "ScanOptions", "MRAcquisitionType",
    "SequenceName", "SliceThickness", "RepetitionTime", "EchoTime", "InversionTime", "EchoNumbers",
    "ImagerPixelSpacing", "NominalScannedPixelSpacing", "ViewPosition", "ViewCodeSequence",
    "EstimatedRadiographicMagnificationFactor", "StudyInstanceUID", "SeriesInstanceUID",
    "SeriesNumber", "AcquisitionNumber", "InstanceNumber", "PatientOrientation",
    "ImagePositionPatient", "ImageOrientationPatient", "FrameOfReferenceUID",
    "TemporalPositionIdentifier", "Laterality", "ImageLaterality", "SamplesPerPixel",
    "PhotometricInterpretation", "NumberOfFrames", "Rows", "Columns", "PixelSpacing",
    "BitsAllocated", "PixelRepresentation", "SharedFunctionalGroupsSequence",
    "PerFrameFunctionalGroupsSequence", "DirectoryRecordSequence", "DimensionIndexSequence",
]

# What loading the pixels needs on top of the index (rescale, window, bit layout, pixel data).
# The scan reads these too, so a series loads from the scan's headers without parsing them again.
LOAD_KEYWORDS = [
    *HEADER_KEYWORDS,
    "RescaleSlope", "RescaleIntercept", "RescaleType", "WindowCenter", "WindowWidth", "VOILUTFunction",
    "VOILUTSequence", "ModalityLUTSequence", "BitsStored", "HighBit", "PlanarConfiguration",
    "PixelSpacingCalibrationType", "ImageComments", "PixelData", "FloatPixelData", "DoubleFloatPixelData",
    "BodyPartExamined", "SpacingBetweenSlices", "GantryDetectorTilt",
]
# What the scan keeps of each header for loading: the load keywords without the patient/study
# identity and the radiograph calibration (the index has those; radiographs are read whole).
_LOAD_RECORD = frozenset(LOAD_KEYWORDS) - {
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyDescription",
    "AccessionNumber", "StudyInstanceUID", "ImagerPixelSpacing", "NominalScannedPixelSpacing", "ViewPosition",
    "EstimatedRadiographicMagnificationFactor", "PixelSpacingCalibrationType", "ImageComments",
    "AcquisitionDeviceProcessingDescription", "BodyPartExamined"}
# Float pixel data comes before PixelData in a file: the scan never reads a pixel value.
_SCAN_KEYWORDS = [kw for kw in LOAD_KEYWORDS if kw not in ("FloatPixelData", "DoubleFloatPixelData")]

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"

# Words in SOP class names that mark objects without an image to review.
_NON_IMAGE_WORDS = (
    "SR Storage", "Structured Report", "RT Structure", "RT Plan", "RT Beams", "RT Treatment",
    "RT Brachy", "RT Ion", "RT Dose", "Segmentation", "Waveform", "ECG", "Presentation State",
    "Key Object", "Encapsulated", "Raw Data", "Registration", "Spectroscopy", "Surface",
    "Real World Value", "Measurement Report", "Hanging Protocol", "Color Palette", "Implant",
    "Stereometric", "Tractography", "Content Assessment", "Audio", "Arterial Pulse", "Respiratory",
    "Hemodynamic", "Electrophysiology", "Procedure Log", "Storage Commitment", "Lensometry",
    "Refractometry", "Keratometry", "Measurements", "Point Cloud", "Mesh", "Annotation",
    "Dose SR", "CAD", "Document", "Protocol",
)

# first two bytes of a DICOM file without preamble: group 0x0008 or 0x0002 in LE or BE
_NO_PREAMBLE_STARTS = {b"\x08\x00", b"\x02\x00", b"\x00\x08", b"\x00\x02"}


_IMAGE_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.1": "Computed Radiography Image Storage",
    "1.2.840.10008.5.1.4.1.1.1.1": "Digital X-Ray Image Storage - For Presentation",
    "1.2.840.10008.5.1.4.1.1.1.1.1": "Digital X-Ray Image Storage - For Processing",
    "1.2.840.10008.5.1.4.1.1.2": "CT Image Storage",
    "1.2.840.10008.5.1.4.1.1.2.1": "Enhanced CT Image Storage",
    "1.2.840.10008.5.1.4.1.1.4": "MR Image Storage",
    "1.2.840.10008.5.1.4.1.1.4.1": "Enhanced MR Image Storage",
    "1.2.840.10008.5.1.4.1.1.7": "Secondary Capture Image Storage",
}


@functools.lru_cache(maxsize=256)
def sop_class_name(uid: str) -> str:
    if uid in _IMAGE_CLASSES:
        return _IMAGE_CLASSES[uid]
    try:
        from pydicom.uid import UID

        name = UID(uid).name
        return name if name else uid
    except Exception:
        return uid


@functools.lru_cache(maxsize=256)
def _class_reason(sop_class_uid: str) -> tuple[str, str | None]:
    """(the class's name or "", the non-image reason of the class or None): the same for every
    file of a class, so worked out once per class (the name and word tests were ~1 us per file)."""
    if sop_class_uid == MEDIA_STORAGE_DIRECTORY:
        return "", "DICOMDIR (directory index)"
    name = sop_class_name(sop_class_uid) if sop_class_uid else ""
    if name and name != sop_class_uid:
        lowered = name.lower()
        if "image" not in lowered or "presentation state" in lowered:
            for word in _NON_IMAGE_WORDS:
                if word.lower() in lowered:
                    return name, f"{name} (non-image)"
    return name, None


def non_image_reason(sop_class_uid: str, ds: Any) -> str | None:
    """Plain reason when the object has no image to review, else None."""
    name, reason = _class_reason(sop_class_uid)
    if reason is not None:
        return reason
    if "Rows" not in ds or "Columns" not in ds:
        label = name or "object"
        return f"{label} (no image: no Rows/Columns)"
    return None


def looks_like_dicom(path: Path) -> str | None:
    """None when the file may be DICOM, else a plain reason why not."""
    try:
        with open(path, "rb") as f:
            head = f.read(132)
    except ValueError as exc:  # e.g. a path with an embedded null byte (from a damaged DICOMDIR)
        return f"cannot be read ({exc})"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if len(head) == 0:
        return "empty file"
    if len(head) >= 132 and head[128:132] == b"DICM":
        return None
    if head[:2] in _NO_PREAMBLE_STARTS and len(head) >= 8:
        return None
    return "not DICOM"


MAX_COORDINATE_MM = 1e6  # a patient coordinate beyond 1 km is damage, not geometry


def _to_float_tuple(value: Any, n: int, limit: float = MAX_COORDINATE_MM, positive: bool = False) -> tuple | None:
    """``n`` finite floats within +-``limit`` (and > 0 with ``positive``), else None: an unusable
    value is shown as unknown, never used."""
    if value is None or isinstance(value, (str, bytes)):
        return None
    try:
        vals = tuple(map(float, value))
    except (TypeError, ValueError):
        return None
    if len(vals) != n:
        return None
    low = 0.0 if positive else -limit
    for v in vals:
        if not low <= v <= limit or (positive and v == 0.0):  # NaN and infinities fail the comparison
            return None
    return vals


def _to_int(value: Any) -> int | None:
    if type(value) is int:  # the common case
        return value
    if value is None or value == "":
        return None
    try:
        if hasattr(value, "__len__") and not isinstance(value, (str, bytes)):
            value = value[0]
        return int(float(value))
    except (TypeError, ValueError, IndexError):
        return None


def functional(ds: Any, seq_kw: str, item_kw: str, frame: int = 0) -> Any:
    """An item of a functional group macro: per-frame (``frame``) first, else shared; or None."""
    for group_kw, index in (("PerFrameFunctionalGroupsSequence", frame), ("SharedFunctionalGroupsSequence", 0)):
        groups = ds.get(group_kw)
        if not groups or len(groups) <= index:
            continue
        seq = groups[index].get(seq_kw)
        if seq:
            item = seq[0]
            if item_kw in item:
                return item.get(item_kw)
    return None


def transfer_syntax_of(ds: Any) -> str:
    meta = getattr(ds, "file_meta", None)
    ts = str(meta.get("TransferSyntaxUID", "") or "") if meta is not None else ""
    if ts:
        return ts
    implicit = getattr(ds, "_read_implicit", None)
    little = getattr(ds, "_read_little", None)
    if implicit is None:
        return ""
    if implicit:
        return "1.2.840.10008.1.2"
    return "1.2.840.10008.1.2.1" if little else "1.2.840.10008.1.2.2"


def instance_header(path: Path, ds: Any, shared: dict | None = None, alike: dict | None = None) -> InstanceHeader:
    """The InstanceHeader of a header dataset (multi-frame: geometry of the first frame).
    ``shared``: a dict the caller keeps for one scan, so equal orientations, spacings and class
    UIDs of the files of a series are one object each (fewer small objects kept per file).
    ``alike``: :func:`alike_fields` of values ``ds`` shares with other headers (worked out once)."""
    ipp = _to_float_tuple(ds.get("ImagePositionPatient"), 3)
    if alike is not None and "iop" in alike:
        iop = alike["iop"]
    else:
        iop = _to_float_tuple(ds.get("ImageOrientationPatient"), 6, limit=1.01)
    if alike is not None and "spacing" in alike:
        spacing = alike["spacing"]
    else:
        spacing = _to_float_tuple(ds.get("PixelSpacing"), 2, positive=True)
    if ipp is None:
        ipp = _to_float_tuple(functional(ds, "PlanePositionSequence", "ImagePositionPatient"), 3)
    if iop is None:
        iop = _to_float_tuple(functional(ds, "PlaneOrientationSequence", "ImageOrientationPatient"), 6, limit=1.01)
    if spacing is None:
        spacing = _to_float_tuple(functional(ds, "PixelMeasuresSequence", "PixelSpacing"), 2, positive=True)
    if alike is not None and "frames" in alike:
        frames, sop_class, rows, columns = alike["frames"], alike["sop_class"], alike["rows"], alike["columns"]
    else:
        frames = _to_int(ds.get("NumberOfFrames")) or 1
        sop_class = str(ds.get("SOPClassUID", "") or "")
        rows, columns = _to_int(ds.get("Rows")) or 0, _to_int(ds.get("Columns")) or 0
    syntax = transfer_syntax_of(ds)
    if shared is not None:
        iop, spacing = shared.setdefault(iop, iop), shared.setdefault(spacing, spacing)
        sop_class, syntax = shared.setdefault(sop_class, sop_class), shared.setdefault(syntax, syntax)
    return InstanceHeader(
        path=path if isinstance(path, Path) else Path(path),
        sop_instance_uid=str(ds.get("SOPInstanceUID", "") or ""),
        sop_class_uid=sop_class,
        transfer_syntax_uid=syntax,
        instance_number=_to_int(ds.get("InstanceNumber")),
        rows=rows,
        columns=columns,
        number_of_frames=max(1, frames),
        image_position_lps=ipp,
        image_orientation=iop,
        pixel_spacing_mm=spacing,
        acquisition_number=_to_int(ds.get("AcquisitionNumber")),
        echo_number=_to_int(ds.get("EchoNumbers")),
        temporal_position=_to_int(ds.get("TemporalPositionIdentifier")),
        load_header=ds.slim(_LOAD_RECORD) if is_load_ready(ds) else None,
    )


# What the checks of read_header read of an image's values (besides which attributes are present).
_JUDGED = ("SOPClassUID", "Rows", "Columns", "BitsAllocated", "SamplesPerPixel", "PixelRepresentation", "NumberOfFrames")


def alike_fields(same: dict[str, Any], absent: Any) -> dict[str, Any] | None:
    """For headers with one layout (the same attributes in the same order: the batch walk's
    groups) whose values ``same`` are equal in all of them (``absent``: in none of them): the
    fields of instance_header that follow from those values alone, worked out once for all, as
    instance_header works them out. None when the checks of read_header read a value that
    differs between the headers. Measured on the 3,000-file bench: judging and converting these
    per file took ~4 us of the ~45 us of CPU per file."""
    if any(kw not in same for kw in _JUDGED):
        return None

    def get(kw: str, default: Any = None) -> Any:
        value = same[kw]
        return default if value is absent else value

    out: dict[str, Any] = {
        "frames": _to_int(get("NumberOfFrames")) or 1,
        "sop_class": str(get("SOPClassUID", "") or ""),
        "rows": _to_int(get("Rows")) or 0,
        "columns": _to_int(get("Columns")) or 0,
    }
    if "ImageOrientationPatient" in same:
        iop = _to_float_tuple(get("ImageOrientationPatient"), 6, limit=1.01)
        if iop is not None:  # else each header looks in its functional groups
            out["iop"] = iop
    if "PixelSpacing" in same:
        spacing = _to_float_tuple(get("PixelSpacing"), 2, positive=True)
        if spacing is not None:
            out["spacing"] = spacing
    return out


def is_load_ready(ds: Any) -> bool:
    """True for a header the fast reader parsed up to the pixel data with every load keyword
    (the pydicom fallback of the scan stops before the pixels, so loading parses those again)."""
    return isinstance(ds, FastHeader) and ds.pixel_raw is not None and ds.file_stat is not None


def _touch(value: Any) -> bool:
    """True when every element inside a sequence value can be converted (pydicom converts lazily,
    so a damaged nested element would otherwise raise later, far from the file read)."""
    for item in value:
        for elem in item:
            v = elem.value
            if elem.VR == "SQ" and not _touch(v):
                return False
    return True


def safe_header(ds: Any, keywords: list[str]) -> FastHeader:
    """A plain, fully converted copy of the ``keywords`` of a pydicom dataset. Values that cannot
    be converted are dropped (treated as absent) so later code never meets a lazy-conversion error."""
    values: dict = {}
    for kw in keywords:
        if kw in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"):
            continue
        try:
            if kw not in ds:
                continue
            value = ds[kw].value
            if ds[kw].VR == "SQ" and not _touch(value):
                continue
        except Exception:
            continue
        if type(value).__name__ == "MultiValue":
            value = list(value)
        elif type(value).__name__ == "PersonName":
            value = str(value)
        values[kw] = value
    meta: dict = {}
    try:
        ts = ds.file_meta.get("TransferSyntaxUID") if getattr(ds, "file_meta", None) is not None else None
        if ts:
            meta["TransferSyntaxUID"] = str(ts)
    except Exception:
        pass
    pixel = None
    try:
        if 0x7FE00010 in ds:
            pixel = ds.get_item(0x7FE00010)
    except Exception:
        pixel = None
    header = FastHeader({}, meta, bool(getattr(ds, "_read_implicit", True)), pixel)
    header._read_little = bool(getattr(ds, "_read_little", True))
    header._values.update(values)
    return header


_WANTED = None


def wanted_tags() -> Wanted:
    """The attributes the scan reads of each file (the scan keywords and the vendor image-type tags)."""
    return _wanted()


def _wanted():
    global _WANTED
    if _WANTED is None:
        _WANTED = Wanted(_SCAN_KEYWORDS)
        _WANTED.tags.update(VENDOR_TYPE_TAGS)  # private image-type tags that tell repeated images apart
    return _WANTED


def read_header(path: str | Path) -> tuple[Any | None, SkippedFile | None]:
    """(dataset, None) for an image file, (None or dataset, SkippedFile) otherwise. Never raises
    for bad files: the reason is in the SkippedFile, whatever went wrong (RecursionError and
    MemoryError included). Header only: the fast reader stops at the pixel data; the pydicom
    fallback reads with ``stop_before_pixels=True`` and ``specific_tags``."""
    if not isinstance(path, Path):
        path = Path(path)
    try:
        return _read_header(path)
    except Exception as exc:
        return None, SkippedFile(path, describe_read_error(exc), "error")


def _read_header(path: Path) -> tuple[Any | None, SkippedFile | None]:
    try:
        ds = read_fast_header(path, _wanted(), strict=True)
    except HeaderDamaged as exc:
        return None, SkippedFile(path, exc.reason, "error")
    if ds is None:
        reason = looks_like_dicom(path)
        if reason is not None:
            return None, SkippedFile(path, reason, "not-dicom" if reason in ("not DICOM", "empty file") else "error")
        from pydicom import dcmread

        try:
            with open_bounded(path) as fh:  # a damaged length never allocates beyond the file size
                ds = safe_header(dcmread(fh, stop_before_pixels=True, force=True, specific_tags=HEADER_KEYWORDS),
                                 HEADER_KEYWORDS)
        except Exception as exc:
            return None, SkippedFile(path, describe_read_error(exc), "error")
    return _judge(path, ds)


def judge_parsed(path: Path, ds: Any) -> tuple[Any | None, SkippedFile | None]:
    """What :func:`read_header` returns for a file whose header ``ds`` was parsed elsewhere (the
    batch walk of :mod:`app.dicom.batch_walk`): the same checks, never raising."""
    try:
        return _judge(path, ds)
    except Exception as exc:
        return None, SkippedFile(path, describe_read_error(exc), "error")


def _judge(path: Path, ds: Any) -> tuple[Any | None, SkippedFile | None]:
    sop_class = str(ds.get("SOPClassUID", "") or "")
    if sop_class == MEDIA_STORAGE_DIRECTORY or "DirectoryRecordSequence" in ds:
        return ds, SkippedFile(path, "DICOMDIR (directory index)", "non-image")
    if not sop_class and "Rows" not in ds and "Modality" not in ds:
        meta = getattr(ds, "file_meta", None)
        if len(ds) > 1 or (meta is not None and len(meta) > 0):
            return None, SkippedFile(path, "DICOM data without an image (no SOP class, Rows or Modality)",
                                     "non-image")
        return None, SkippedFile(path, "not DICOM (no DICOM attributes found)", "not-dicom")
    reason = non_image_reason(sop_class, ds)
    if reason is not None and reason.endswith("no Rows/Columns)") and "PixelData" in ds:
        missing = " and ".join(kw for kw in ("Rows", "Columns") if kw not in ds)
        return None, SkippedFile(path, f"damaged header: {missing} missing although the file has pixel data", "error")
    if reason is not None:
        return ds, SkippedFile(path, reason, "non-image")
    damage = layout_problem(ds)
    if damage is not None:
        return None, SkippedFile(path, damage, "error")
    return ds, None


def describe_read_error(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    low = text.lower()
    if isinstance(exc, RecursionError):
        return f"header cannot be parsed: sequences nested too deeply ({type(exc).__name__})"
    if isinstance(exc, MemoryError):
        return f"header cannot be parsed: it declares more data than memory allows ({type(exc).__name__})"
    if isinstance(exc, EOFError) or "end of file" in low or "truncat" in low or "unexpected eof" in low \
            or ("buffer" in low and "bytes" in low):
        return f"truncated or damaged header ({text})"
    if isinstance(exc, OSError):
        return f"cannot be read ({text})"
    return f"header cannot be parsed ({type(exc).__name__}: {text})"
