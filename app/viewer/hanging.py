"""The pars hanging protocol: which series goes in which cell, filled from the study, and an
automatic guess of where each pars interarticularis lies on CT (Qt-free).

Cells (2 rows x 3 columns):

    right oblique radiograph | CT sagittal through the right pars | MRI sagittal STIR (or T2)
    left oblique radiograph  | CT sagittal through the left pars  | CT axial (click to aim)

A cell with nothing to show says what is missing ("No right oblique radiograph in this study").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.dicom.model import Geometry, Modality, MRSequence, Plane, RadiographView

PARS_OFFSET_MM = 14.0  # pars lies ~12-16 mm either side of the canal midline (adult lumbar)


@dataclass(frozen=True)
class CellSpec:
    role: str
    title: str
    series_key: str | None
    orientation: str  # "native" for radiographs, else axial/sagittal/coronal
    pars_side: str | None = None  # "left" | "right" for the CT pars sagittals
    empty_message: str = ""
    note: str = ""


@dataclass(frozen=True)
class HangingLayout:
    name: str
    rows: int
    cols: int
    cells: tuple[CellSpec, ...]

    def cell(self, role: str) -> CellSpec:
        for c in self.cells:
            if c.role == role:
                return c
        raise KeyError(role)


def _desc(s: Any) -> str:
    return (getattr(s, "description", "") or "").upper()


def _val(x):
    return getattr(x, "value", x)


def _count(s: Any) -> int:
    try:
        return int(s.n_images)
    except Exception:
        return 0


def _is_view(s: Any, view: RadiographView, words: Sequence[str]) -> bool:
    if getattr(s, "kind", "") != "radiograph":
        return False
    v = getattr(s, "view", None)
    if v is not None and _val(v) == view.value:
        return True
    if v is None or _val(v) == RadiographView.UNKNOWN.value:
        d = _desc(s)
        return any(w in d for w in words)
    return False


def find_oblique(series: Sequence[Any], side: str) -> Any | None:
    if side == "left":
        words = ("LT OBL", "LEFT OBL", "L OBL", "LPO", "LAO")
        view = RadiographView.LEFT_OBLIQUE
    else:
        words = ("RT OBL", "RIGHT OBL", "R OBL", "RPO", "RAO")
        view = RadiographView.RIGHT_OBLIQUE
    hits = [s for s in series if _is_view(s, view, words)]
    return hits[0] if hits else None


def find_ct(series: Sequence[Any]) -> Any | None:
    cts = [s for s in series if _val(getattr(s, "modality", "")) == Modality.CT.value
           and getattr(s, "kind", "") == "volume" and _count(s) >= 2]
    if not cts:
        return None

    def score(s):
        plane = _val(getattr(s, "plane", None))
        return (plane == Plane.AXIAL.value, "BONE" in _desc(s), _count(s))
    return max(cts, key=score)


def find_mr_sagittal(series: Sequence[Any]) -> tuple[Any | None, str]:
    """Sagittal STIR, else sagittal T2; (series, note)."""
    mrs = [s for s in series if _val(getattr(s, "modality", "")) == Modality.MR.value
           and getattr(s, "kind", "") == "volume"]
    sag = [s for s in mrs if _val(getattr(s, "plane", None)) == Plane.SAGITTAL.value or "SAG" in _desc(s)]

    def seq(s):
        v = _val(getattr(s, "sequence", None))
        if v in (None, MRSequence.OTHER.value):
            d = _desc(s)
            if "STIR" in d or "FS" in d.split() or "FAT SAT" in d:
                return MRSequence.STIR.value
            if "T2" in d:
                return MRSequence.T2.value
            if "T1" in d:
                return MRSequence.T1.value
        return v
    for wanted, note in ((MRSequence.STIR.value, ""), (MRSequence.T2.value, "no STIR in this study; showing T2")):
        hits = [s for s in sag if seq(s) == wanted]
        if hits:
            return max(hits, key=_count), note
    return None, ""


def pars_protocol(series: Sequence[Any]) -> HangingLayout:
    """Fill the pars protocol from the series of one study (SeriesEntry-like objects)."""
    r_obl = find_oblique(series, "right")
    l_obl = find_oblique(series, "left")
    ct = find_ct(series)
    mr, mr_note = find_mr_sagittal(series)
    no_ct = "No CT in this study"
    cells = (
        CellSpec("xr_right_oblique", "Right oblique", getattr(r_obl, "key", None), "native",
                 empty_message="No right oblique radiograph in this study"),
        CellSpec("ct_sag_right_pars", "CT sagittal - right pars", getattr(ct, "key", None), "sagittal",
                 pars_side="right", empty_message=no_ct + " (right pars sagittal)"),
        CellSpec("mr_sag_stir", "MRI sagittal STIR" if not mr_note else "MRI sagittal T2",
                 getattr(mr, "key", None), "native",
                 empty_message="No sagittal STIR or T2 MRI in this study", note=mr_note),
        CellSpec("xr_left_oblique", "Left oblique", getattr(l_obl, "key", None), "native",
                 empty_message="No left oblique radiograph in this study"),
        CellSpec("ct_sag_left_pars", "CT sagittal - left pars", getattr(ct, "key", None), "sagittal",
                 pars_side="left", empty_message=no_ct + " (left pars sagittal)"),
        CellSpec("ct_axial", "CT axial", getattr(ct, "key", None), "axial",
                 empty_message=no_ct + " (axial)"),
    )
    return HangingLayout("pars", 2, 3, cells)


def simple_layout(series: Sequence[Any], rows: int, cols: int) -> HangingLayout:
    """1x1, 1x2, 2x2: the first series of the study in reading order, one per cell."""
    n = rows * cols
    cells = []
    for idx in range(n):
        s = series[idx] if idx < len(series) else None
        if s is None:
            cells.append(CellSpec(f"cell{idx}", "", None, "native", empty_message="Empty - drag a series here"))
            continue
        orient = "native" if getattr(s, "kind", "") == "radiograph" else (_val(getattr(s, "plane", None)) or "axial")
        if orient not in ("axial", "sagittal", "coronal"):
            orient = "axial"
        cells.append(CellSpec(f"cell{idx}", getattr(s, "description", "") or getattr(s, "key", ""),
                              getattr(s, "key", None), orient))
    return HangingLayout(f"{rows}x{cols}", rows, cols, tuple(cells))


@dataclass(frozen=True)
class ParsEstimate:
    midline_x_lps: float
    right_x_lps: float  # patient right = -x in LPS
    left_x_lps: float
    method: str

    def x_for(self, side: str) -> float:
        return self.left_x_lps if side == "left" else self.right_x_lps


def estimate_pars_x(array: np.ndarray, geometry: Geometry, bone_threshold: float = 200.0,
                    offset_mm: float = PARS_OFFSET_MM) -> ParsEstimate:
    """Automatic guess of the left/right pars x-positions on a CT (values in HU).

    The spine is close to left-right symmetric, so the median x of bone voxels (> 200 HU) is taken
    as the canal midline and each pars is put ``offset_mm`` lateral to it. A reasonable starting
    point; the reader refines it by clicking in crosshair mode. Runs on a strided subsample.
    """
    a = np.asarray(array)
    step = max(1, int(round((a.size / 2_000_000) ** (1 / 3))))
    sub = a[::step, ::step, ::step]
    kk, jj, ii = np.nonzero(sub > bone_threshold)
    centre_x = float(np.mean(geometry.ijk_to_lps(np.array([[0, 0, 0], [s - 1 for s in geometry.shape_ijk]]))[:, 0]))
    if kk.size < 50:
        mid, method = centre_x, "volume centre (too little bone found)"
    else:
        if kk.size > 200_000:
            sel = np.linspace(0, kk.size - 1, 200_000).astype(np.int64)
            kk, jj, ii = kk[sel], jj[sel], ii[sel]
        ijk = np.stack([ii, jj, kk], axis=1).astype(np.float64) * step
        mid = float(np.median(geometry.ijk_to_lps(ijk)[:, 0]))
        method = f"automatic: bone midline +/- {offset_mm:.0f} mm"
    return ParsEstimate(mid, mid - offset_mm, mid + offset_mm, method)
