"""Data types of the DICOM core: what the loader produces and every other module consumes.

No Qt, no SimpleITK here. Conventions (used everywhere in Isthmus):

* Patient coordinates are DICOM LPS in millimetres (``*_lps``).
* Voxel indices are ``(i, j, k)`` = (column, row, slice), the same order as SimpleITK/ITK
  (``*_ijk``). numpy arrays of a volume are indexed ``array[k, j, i]``.
* ``Geometry.direction`` is a 3x3 matrix whose *columns* are the unit vectors of the i, j
  and k axes in LPS (ITK's direction matrix), so ``lps = origin + direction @ (spacing * ijk)``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


class Modality(str, enum.Enum):
    CR = "CR"
    DX = "DX"
    CT = "CT"
    MR = "MR"
    OTHER = "OTHER"


class RadiographView(str, enum.Enum):
    AP = "AP"
    PA = "PA"
    LATERAL = "lateral"
    LEFT_OBLIQUE = "left oblique"
    RIGHT_OBLIQUE = "right oblique"
    UNKNOWN = "unknown"


class MRSequence(str, enum.Enum):
    T1 = "T1"
    T2 = "T2"
    STIR = "STIR"  # STIR or fat-suppressed T2: the edema-sensitive sequence
    OTHER = "other"


class Plane(str, enum.Enum):
    AXIAL = "axial"
    SAGITTAL = "sagittal"
    CORONAL = "coronal"
    OBLIQUE = "oblique"


class CalibrationBasis(str, enum.Enum):
    """How millimetres on a projection radiograph were obtained. Always shown beside a mm value."""

    PIXEL_SPACING = "PixelSpacing"  # calibrated at the patient plane by the modality/operator
    IMAGER_CORRECTED = "ImagerPixelSpacing / magnification"  # detector spacing divided by ERMF
    IMAGER_PIXEL_SPACING = "ImagerPixelSpacing (detector plane, not corrected)"
    UNCALIBRATED = "uncalibrated (pixels)"


@dataclass(frozen=True)
class Geometry:
    """Voxel-to-patient mapping of a volume (or of one image plane, with k spacing = thickness)."""

    origin_lps: np.ndarray  # (3,) mm, centre of voxel (0, 0, 0)
    spacing_mm: np.ndarray  # (3,) mm along i, j, k
    direction: np.ndarray  # (3, 3) columns = unit i, j, k axes in LPS
    shape_ijk: tuple[int, int, int]  # (n_i, n_j, n_k) = (columns, rows, slices)

    def __post_init__(self) -> None:
        object.__setattr__(self, "origin_lps", np.asarray(self.origin_lps, dtype=np.float64).reshape(3))
        object.__setattr__(self, "spacing_mm", np.asarray(self.spacing_mm, dtype=np.float64).reshape(3))
        object.__setattr__(self, "direction", np.asarray(self.direction, dtype=np.float64).reshape(3, 3))
        object.__setattr__(self, "shape_ijk", tuple(int(v) for v in self.shape_ijk))
        if np.any(self.spacing_mm <= 0):
            raise ValueError(f"spacing must be positive, got {self.spacing_mm}")

    @property
    def matrix(self) -> np.ndarray:
        """4x4 homogeneous ijk -> LPS transform."""
        m = np.eye(4)
        m[:3, :3] = self.direction * self.spacing_mm[np.newaxis, :]
        m[:3, 3] = self.origin_lps
        return m

    def ijk_to_lps(self, points_ijk: np.ndarray) -> np.ndarray:
        p = np.asarray(points_ijk, dtype=np.float64)
        return p @ (self.direction * self.spacing_mm[np.newaxis, :]).T + self.origin_lps

    def lps_to_ijk(self, points_lps: np.ndarray) -> np.ndarray:
        p = np.asarray(points_lps, dtype=np.float64) - self.origin_lps
        inv = np.linalg.inv(self.direction * self.spacing_mm[np.newaxis, :])
        return p @ inv.T

    @property
    def slice_normal_lps(self) -> np.ndarray:
        return self.direction[:, 2]

    @property
    def plane_normal_lps(self) -> np.ndarray:
        """Unit normal of the image planes (i x j). Equals ``slice_normal_lps`` except for a
        gantry-tilted stack, whose k axis is the true, oblique slice-to-slice direction."""
        n = np.cross(self.direction[:, 0], self.direction[:, 1])
        return n / np.linalg.norm(n)


@dataclass
class Volume:
    """A CT or MR stack as one 3D array, ordered along the slice normal."""

    array: np.ndarray  # [k, j, i]; int16/uint16/int32 when values fit, else float32 (never float64)
    geometry: Geometry
    modality: Modality
    series_instance_uid: str
    frame_of_reference_uid: str | None = None
    sop_instance_uids: list[str] = field(default_factory=list)  # one per k (or the multi-frame SOP)
    frame_numbers: list[int] = field(default_factory=list)  # 1-based frame per k for multi-frame, else []
    window_center_width: tuple[float, float] | None = None  # DICOM default, in output units (HU on CT)
    units: str = ""  # "HU" for CT, "" otherwise
    description: str = ""
    plane: Plane = Plane.OBLIQUE
    sequence: MRSequence | None = None
    slice_thickness_mm: float | None = None
    warnings: list[str] = field(default_factory=list)
    # False when the header geometry was unusable and a plain grid (identity, 1 mm) is shown
    geometry_reliable: bool = True
    # variable slice spacing: the acquired slices were resampled onto the regular k grid;
    # acquired_k_mm holds their true distances (mm) along the k axis from the origin
    resampled: bool = False
    acquired_k_mm: list[float] = field(default_factory=list)


@dataclass
class VoiLut:
    """A VOI LUT table (PS3.3 C.11.2): first mapped input value, output bits, table."""

    first_mapped: int
    bits: int
    table: np.ndarray
    explanation: str = ""


@dataclass
class Calibration:
    basis: CalibrationBasis
    spacing_mm: tuple[float, float] | None  # (row spacing, column spacing) in mm, None when uncalibrated
    magnification: float | None = None  # EstimatedRadiographicMagnificationFactor when used/present
    note: str = ""  # e.g. "detector plane; object is ~15% smaller"

    @property
    def label(self) -> str:
        return self.basis.value


@dataclass
class Radiograph:
    """One projection image (CR/DX), values after the modality LUT, not inverted."""

    array: np.ndarray  # [row, column]
    photometric: str  # "MONOCHROME1" or "MONOCHROME2"
    calibration: Calibration
    view: RadiographView
    modality: Modality
    series_instance_uid: str
    sop_instance_uid: str
    window_center_width: tuple[float, float] | None = None
    voi_lut: VoiLut | None = None
    image_laterality: str = ""
    patient_orientation: tuple[str, str] = ("", "")  # row direction, column direction (e.g. "L", "F")
    description: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def invert_for_display(self) -> bool:
        return self.photometric == "MONOCHROME1"


@dataclass
class InstanceHeader:
    """What the header-only scan keeps of one image file (no pixel data)."""

    path: Path
    sop_instance_uid: str
    sop_class_uid: str
    transfer_syntax_uid: str
    instance_number: int | None = None
    rows: int = 0
    columns: int = 0
    number_of_frames: int = 1
    image_position_lps: tuple[float, float, float] | None = None
    image_orientation: tuple[float, float, float, float, float, float] | None = None
    pixel_spacing_mm: tuple[float, float] | None = None
    acquisition_number: int | None = None
    echo_number: int | None = None
    temporal_position: int | None = None
    # 1-based frames of a multi-frame object that belong to this stack; empty = all frames
    frame_numbers: tuple[int, ...] = ()
    # The scan's parsed header when it holds everything loading needs (pixel data offset and
    # length, transfer syntax, rescale, geometry, bit layout) and the file's (size, mtime, ctime, inode)
    # then: loading reuses it instead of parsing the file again (None: loading parses the file).
    load_header: object | None = field(default=None, repr=False, compare=False)


@dataclass
class SeriesEntry:
    """One separately loadable stack. A SeriesInstanceUID that mixes orientations, matrices,
    echoes/acquisitions/temporal positions or modalities becomes several entries, each with
    ``split_note`` saying why."""

    key: str  # unique within a scan: the SeriesInstanceUID, plus "#n" when split
    series_instance_uid: str
    modality: Modality
    modality_code: str  # the raw Modality attribute (e.g. "PT" when OTHER)
    description: str
    series_number: int | None
    kind: str  # "volume" (CT/MR), "radiograph" (CR/DX), "other"
    instances: list[InstanceHeader] = field(default_factory=list)
    view: RadiographView | None = None
    sequence: MRSequence | None = None
    plane: Plane | None = None
    frame_of_reference_uid: str | None = None
    matrix: tuple[int, int] | None = None  # (rows, columns)
    spacing_mm: tuple[float, ...] | None = None
    transfer_syntax: str = ""
    calibration_basis: CalibrationBasis | None = None
    split_note: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def n_images(self) -> int:
        return sum(len(h.frame_numbers) or max(1, h.number_of_frames) for h in self.instances)


@dataclass
class StudyEntry:
    study_instance_uid: str
    study_date: str = ""
    description: str = ""
    accession_number: str = ""
    series: list[SeriesEntry] = field(default_factory=list)


@dataclass
class PatientEntry:
    patient_id: str
    patient_name: str = ""
    birth_date: str = ""
    sex: str = ""
    studies: list[StudyEntry] = field(default_factory=list)


@dataclass
class SkippedFile:
    path: Path
    reason: str  # plain words: "not DICOM", "truncated", "Basic Text SR (non-image)", ...
    category: str = "error"  # "not-dicom" | "non-image" | "error"


@dataclass
class ScanResult:
    patients: list[PatientEntry] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    files_seen: int = 0

    def all_series(self) -> list[SeriesEntry]:
        return [s for p in self.patients for st in p.studies for s in st.series]
