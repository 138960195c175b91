"""Classify a series from its header: modality, radiograph view, MR sequence, image plane.

Pure functions of a pydicom Dataset (header only). Each returns ``unknown``/``other`` when the
header does not say clearly, never a guess dressed up as a fact.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from app.dicom.model import Modality, MRSequence, Plane, RadiographView

PLANE_TOLERANCE_DEG = 10.0

# --------------------------------------------------------------------------- modality


def modality_of(code: str) -> Modality:
    code = (code or "").strip().upper()
    if code in ("CR", "DX", "CT", "MR"):
        return Modality(code)
    if code in ("DR", "RG"):  # older / non-standard radiography codes
        return Modality.DX
    return Modality.OTHER


def kind_of(modality: Modality) -> str:
    if modality in (Modality.CT, Modality.MR):
        return "volume"
    if modality in (Modality.CR, Modality.DX):
        return "radiograph"
    return "other"


# --------------------------------------------------------------------------- plane


def orientation_normal(iop: Any) -> np.ndarray | None:
    """Unit slice normal (row cosine x column cosine) from ImageOrientationPatient."""
    try:
        v = np.array([float(x) for x in iop], dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if v.shape != (6,):
        return None
    n = np.cross(v[:3], v[3:])
    norm = float(np.linalg.norm(n))
    if not math.isfinite(norm) or norm < 1e-6:
        return None
    return n / norm


def plane_of(iop: Any, tolerance_deg: float = PLANE_TOLERANCE_DEG) -> Plane | None:
    """axial / sagittal / coronal when the slice normal is within ``tolerance_deg`` of the
    patient z / x / y axis, else oblique; None when there is no usable orientation."""
    n = orientation_normal(iop)
    if n is None:
        return None
    axis = int(np.argmax(np.abs(n)))
    angle = math.degrees(math.acos(min(1.0, abs(float(n[axis])))))
    if angle > tolerance_deg:
        return Plane.OBLIQUE
    return {0: Plane.SAGITTAL, 1: Plane.CORONAL, 2: Plane.AXIAL}[axis]


# --------------------------------------------------------------------------- radiograph view

# SNOMED CT (SCT) and legacy SNOMED-RT (SRT) codes of CID 4010 "DX View"
_VIEW_CODES = {
    "399348003": RadiographView.AP, "R-10206": RadiographView.AP,
    "272479007": RadiographView.PA, "R-10214": RadiographView.PA,
    "399067008": RadiographView.LATERAL, "R-10220": RadiographView.LATERAL,
    "399198007": RadiographView.LATERAL, "R-10232": RadiographView.LATERAL,
    "399173006": RadiographView.LATERAL, "R-10236": RadiographView.LATERAL,
    "399184004": RadiographView.LEFT_OBLIQUE,
    "399135007": RadiographView.LEFT_OBLIQUE,  # left anterior oblique
    "399006002": RadiographView.LEFT_OBLIQUE,  # left posterior oblique
    "399236003": RadiographView.RIGHT_OBLIQUE,
    "399356000": RadiographView.RIGHT_OBLIQUE,  # right anterior oblique
    "399038007": RadiographView.RIGHT_OBLIQUE,  # right posterior oblique
}

_OBLIQUES = (RadiographView.LEFT_OBLIQUE, RadiographView.RIGHT_OBLIQUE)


def _text_view(text: str) -> RadiographView | None:
    """View from free text such as SeriesDescription "L-SPINE LT OBL", "LAT", "AP"."""
    t = " " + re.sub(r"[^A-Z0-9]+", " ", (text or "").upper()) + " "
    if not t.strip():
        return None
    left = re.search(r" (LT|LEFT|L) (ANT |POST |ANTERIOR |POSTERIOR )?OBL", t) or re.search(
        r" (LPO|LAO|LEFT OBLIQUE|OBL LT|OBL LEFT|OBLIQUE LEFT|OBLIQUE LT|LOBL) ", t)
    right = re.search(r" (RT|RIGHT|R) (ANT |POST |ANTERIOR |POSTERIOR )?OBL", t) or re.search(
        r" (RPO|RAO|RIGHT OBLIQUE|OBL RT|OBL RIGHT|OBLIQUE RIGHT|OBLIQUE RT|ROBL) ", t)
    if left and not right:
        return RadiographView.LEFT_OBLIQUE
    if right and not left:
        return RadiographView.RIGHT_OBLIQUE
    if re.search(r" OBL(IQUE|IQ)?S? ", t):
        return RadiographView.UNKNOWN  # oblique, side not stated here
    if re.search(r" (LAT|LATERAL|LL|RL|LLAT|RLAT|LT LAT|RT LAT) ", t):
        return RadiographView.LATERAL
    if re.search(r" (AP|A P|FRONTAL AP) ", t):
        return RadiographView.AP
    if re.search(r" (PA|P A) ", t):
        return RadiographView.PA
    return None


def _is_oblique_text(text: str) -> bool:
    return bool(re.search(r"OBL", (text or "").upper()))


def _code_view(ds: Any) -> RadiographView | None:
    seq = ds.get("ViewCodeSequence")
    if not seq:
        return None
    item = seq[0]
    value = str(item.get("CodeValue", "") or "").strip()
    if value in _VIEW_CODES:
        return _VIEW_CODES[value]
    meaning = str(item.get("CodeMeaning", "") or "").lower()
    if "oblique" in meaning:
        if "left" in meaning:
            return RadiographView.LEFT_OBLIQUE
        if "right" in meaning:
            return RadiographView.RIGHT_OBLIQUE
        return RadiographView.UNKNOWN
    if "lateral" in meaning:
        return RadiographView.LATERAL
    if "antero-posterior" in meaning or "anteroposterior" in meaning:
        return RadiographView.AP
    if "postero-anterior" in meaning or "posteroanterior" in meaning:
        return RadiographView.PA
    return None


def _view_position(ds: Any) -> RadiographView | None:
    vp = str(ds.get("ViewPosition", "") or "").strip().upper()
    if not vp:
        return None
    table = {
        "AP": RadiographView.AP, "PA": RadiographView.PA,
        "LL": RadiographView.LATERAL, "RL": RadiographView.LATERAL, "LAT": RadiographView.LATERAL,
        "LATERAL": RadiographView.LATERAL, "RLD": RadiographView.LATERAL, "LLD": RadiographView.LATERAL,
        "LLO": RadiographView.LEFT_OBLIQUE, "LAO": RadiographView.LEFT_OBLIQUE,
        "LPO": RadiographView.LEFT_OBLIQUE, "RLO": RadiographView.RIGHT_OBLIQUE,
        "RAO": RadiographView.RIGHT_OBLIQUE, "RPO": RadiographView.RIGHT_OBLIQUE,
    }
    if vp in table:
        return table[vp]
    return _text_view(vp)


def _laterality(ds: Any) -> str:
    for kw in ("ImageLaterality", "Laterality"):
        v = str(ds.get(kw, "") or "").strip().upper()
        if v in ("L", "R"):
            return v
    return ""


def _orientation_view(ds: Any) -> RadiographView | None:
    po = ds.get("PatientOrientation")
    if not po or len(po) < 2:
        return None
    row = str(po[0]).upper()
    col = str(po[1]).upper()
    if row[:1] in ("A", "P") and col[:1] in ("F", "H"):
        return RadiographView.LATERAL
    return None  # frontal: AP and PA cannot be told apart from this alone


def radiograph_view(ds: Any) -> RadiographView:
    """View of a CR/DX image. Obliques win over a plain AP/PA ViewPosition (lumbar obliques are
    often acquired with ViewPosition "AP" and only the description or code says oblique)."""
    texts = " ".join(str(ds.get(k, "") or "") for k in ("SeriesDescription", "ProtocolName",
                                                         "AcquisitionDeviceProcessingDescription"))
    candidates = [_code_view(ds), _view_position(ds), _text_view(texts)]
    for c in candidates:
        if c in _OBLIQUES:
            return c
    oblique_said = any(c is RadiographView.UNKNOWN for c in candidates) or _is_oblique_text(texts)
    if oblique_said:
        side = _laterality(ds)
        if side == "L":
            return RadiographView.LEFT_OBLIQUE
        if side == "R":
            return RadiographView.RIGHT_OBLIQUE
        return RadiographView.UNKNOWN
    for c in [*candidates, _orientation_view(ds)]:
        if c is not None and c is not RadiographView.UNKNOWN:
            return c
    return RadiographView.UNKNOWN


# --------------------------------------------------------------------------- MR sequence


def _num(ds: Any, kw: str) -> float | None:
    v = ds.get(kw)
    if v is None or v == "":
        return None
    try:
        if hasattr(v, "__len__") and not isinstance(v, (str, bytes)):
            v = v[0]
        f = float(v)
        return f if math.isfinite(f) else None
    except (TypeError, ValueError, IndexError):
        return None


def _multi(ds: Any, kw: str) -> list[str]:
    v = ds.get(kw)
    if v is None:
        return []
    if isinstance(v, (str, bytes)):
        return [str(v).upper()]
    try:
        return [str(x).upper() for x in v]
    except TypeError:
        return [str(v).upper()]


def _text_sequence(text: str) -> MRSequence | None:
    t = " " + re.sub(r"[^A-Z0-9]+", " ", (text or "").upper()) + " "
    if re.search(r" (STIR|TIRM|IR FSE|FSE IR|TIR) ", t):
        return MRSequence.STIR
    fat_sat = re.search(r" (FS|FATSAT|FAT SAT|SPAIR|SPIR|FSAT|CHESS|FAT SUP|FATSUP|DIXON W|WATER) ", t)
    if re.search(r" (FLAIR|PD|DWI|ADC|TRACE|DIFFUSION|LOC|LOCALIZER|SCOUT|SURVEY|MYELO|TOF) ", t):
        return MRSequence.OTHER
    t2 = re.search(r" T2(W|STAR|FSE|TSE|FS)? |T2W|T2 ", t)
    t1 = re.search(r" T1(W|FSE|TSE|FS)? |T1W|T1 ", t)
    if re.search(r" T2FS | T2 ?FS ", t):
        return MRSequence.STIR
    if t2 and not t1:
        return MRSequence.STIR if fat_sat else MRSequence.T2
    if t1 and not t2:
        return MRSequence.T1
    return None


def _param_sequence(ds: Any) -> MRSequence | None:
    scanning = _multi(ds, "ScanningSequence")
    options = _multi(ds, "ScanOptions")
    seq_name = str(ds.get("SequenceName", "") or "").lower()
    ti = _num(ds, "InversionTime")
    te = _num(ds, "EchoTime")
    tr = _num(ds, "RepetitionTime")
    inversion = "IR" in scanning or "tir" in seq_name or ("IR" in options)
    if inversion and ti is not None:
        if 80 <= ti <= 300:
            return MRSequence.STIR
        if ti >= 1500:
            return MRSequence.OTHER  # FLAIR
        if 300 < ti < 1500 and (te is None or te < 40):
            return MRSequence.T1  # T1-weighted inversion recovery (T1 FLAIR, MPRAGE)
    fat_sat = any(o in ("FS", "FAT", "FATSAT", "SFS", "CHESS", "SPAIR", "SPIR") or o.startswith("FS")
                  for o in options)
    if te is None or tr is None:
        return None
    if tr < 1000 and te < 30:
        return MRSequence.T1
    if te >= 60 and tr >= 1500:
        return MRSequence.STIR if fat_sat else MRSequence.T2
    return MRSequence.OTHER


def mr_sequence(ds: Any) -> MRSequence:
    """T1 / T2 / STIR (or fat-suppressed T2) / other, from the description and acquisition
    parameters. A description naming T2 combined with fat suppression (ScanOptions FS) counts
    as the edema-sensitive STIR class."""
    text = " ".join(str(ds.get(k, "") or "") for k in ("SeriesDescription", "ProtocolName"))
    by_text = _text_sequence(text)
    by_params = _param_sequence(ds)
    if by_text is MRSequence.T2 and by_params is MRSequence.STIR:
        return MRSequence.STIR
    if by_text is not None:
        return by_text
    if by_params is not None:
        return by_params
    return MRSequence.OTHER
