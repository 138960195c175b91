"""What one viewport shows, without Qt: a volume resliced on a plane stack, or a radiograph.

A display produces a :class:`Frame` (uint8 pixels + pixel spacing + how pixels map to patient
space) and answers the questions the overlays ask (slice position, pixel value, orientation
labels, scale-bar calibration). ``app.ui.viewer.SliceView`` only draws what it gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from app.dicom.model import Calibration, CalibrationBasis, Radiograph, Volume
from app.viewer import mpr
from app.viewer.orientation import EdgeLabels, edge_labels, radiograph_edge_labels, screen_directions
from app.viewer.render import LutCache, ReducedImageCache, VoiTable, render_slice
from app.viewer.window_level import WindowLevel, auto_window, default_window, preset

UNKNOWN_SIDE = "?"  # edge label of a view whose patient directions are unknown


@dataclass
class Frame:
    pixels: np.ndarray  # uint8 [rows, cols], C-contiguous
    spacing_mm: tuple[float, float]  # (row, col) size of one pixel on screen, mm (1, 1 when uncalibrated)
    plane: mpr.PlaneSpec | None = None  # pixel -> LPS for volumes
    step: int = 1  # image pixels per rendered pixel along each axis (> 1: a fitted radiograph, box-averaged)
    source_shape: tuple[int, int] | None = None  # full-resolution (rows, cols) when step > 1


@dataclass
class DisplayOptions:
    wl: WindowLevel | None = None
    wl_source: str = ""
    invert: bool = False
    rotation_deg: int = 0
    flip_h: bool = False
    flip_v: bool = False


@dataclass(frozen=True)
class VolumePrep:
    """Whole-volume numbers computed once, off the GUI thread, when a volume is loaded."""

    fill: float  # value shown outside the volume (the minimum)
    wl: WindowLevel
    wl_source: str
    pars: object | None = None  # hanging.ParsEstimate for CT


def prepare_volume(volume: Volume) -> VolumePrep:
    from app.viewer.hanging import estimate_pars_x

    a = volume.array
    step = max(1, int(round((a.size / 4_000_000) ** (1 / 3))))
    fill = float(a[::step, ::step, ::step].min()) if a.size else 0.0
    wl, src = default_window(volume.modality.value, a, volume.window_center_width)
    pars = estimate_pars_x(a, volume.geometry) if volume.modality.value == "CT" else None
    return VolumePrep(fill, wl, src, pars)


class VolumeDisplay:
    """A volume seen through a stack of parallel planes (axial/sagittal/coronal/oblique)."""

    kind = "volume"

    def __init__(self, volume: Volume, orientation: str = "axial", prep: VolumePrep | None = None) -> None:
        self.volume = volume
        self.options = DisplayOptions()
        prep = prep or prepare_volume(volume)
        self.prep = prep
        self.options.wl, self.options.wl_source = prep.wl, prep.wl_source
        self.fill = prep.fill
        self.slab_mm = 0.0
        self.slab_mode = "mip"
        self.interpolation = 1
        self._lut = LutCache()
        self.orientation = ""
        self.stack: mpr.PlaneStack
        self.index = 0
        self.set_orientation(orientation)

    # ---- plane stack -------------------------------------------------------------------
    def set_orientation(self, orientation: str, keep_point_lps=None) -> None:
        if orientation == "native":
            # the acquisition plane: screen right/down along the volume's own i/j axes
            right, down = self.volume.geometry.direction[:, 0], self.volume.geometry.direction[:, 1]
            orientation = self.volume.plane.value
        else:
            right, down = mpr.screen_axes(orientation)
        point = keep_point_lps if keep_point_lps is not None else None
        self._set_axes(right, down)
        self._base_normal = np.cross(np.asarray(right, float), np.asarray(down, float))
        self.orientation = orientation
        self.index = self.stack.count // 2 if point is None else self.stack.index_containing(point)

    def _set_axes(self, right, down) -> None:
        self.stack = mpr.plane_stack(self.volume.geometry, right, down)

    def tilt(self, about: str, angle_deg: float, pivot_lps=None) -> None:
        """Rotate the plane about the screen's vertical ("vertical") or horizontal axis through
        ``pivot_lps`` (the crosshair or the pars point under the cursor; default the plane
        centre): the oblique plane the reader lays along the pars keeps the pivot on it."""
        plane = self.plane
        rows, cols = plane.shape
        if pivot_lps is None:
            pivot_lps = plane.pixel_to_lps((cols - 1) / 2.0, (rows - 1) / 2.0)
        axis = plane.down_lps if about == "vertical" else plane.right_lps
        rot = mpr.rotation_matrix(axis, angle_deg)
        right, down = rot @ plane.right_lps, rot @ plane.down_lps
        self._set_axes(right, down)
        self.orientation = "oblique"
        self.index = self.stack.index_containing(np.asarray(pivot_lps, dtype=np.float64))

    @property
    def tilt_deg(self) -> float:
        """Angle between the shown plane and the plane it was tilted from (0 when not tilted)."""
        base = getattr(self, "_base_normal", None)
        if base is None:
            return 0.0
        n = self.plane.normal_lps
        c = abs(float(n @ base)) / max(float(np.linalg.norm(n) * np.linalg.norm(base)), 1e-12)
        return float(np.degrees(np.arccos(min(1.0, c))))

    @property
    def n_slices(self) -> int:
        return self.stack.count

    @property
    def plane(self) -> mpr.PlaneSpec:
        return self.stack.plane(self.index)

    def set_index(self, index: int) -> bool:
        new = int(np.clip(index, 0, self.n_slices - 1))
        changed = new != self.index
        self.index = new
        return changed

    def scroll(self, delta: int) -> bool:
        return self.set_index(self.index + delta)

    def move_to_point(self, point_lps) -> bool:
        return self.set_index(self.stack.index_containing(point_lps))

    def native_k(self) -> int | None:
        """The volume slice index k the current plane coincides with (acquisition-plane views),
        else None (MPR planes cut across slices)."""
        g = self.volume.geometry
        n = np.cross(g.direction[:, 0], g.direction[:, 1])  # the image-plane normal (gantry tilt safe)
        if abs(abs(float(self.plane.normal_lps @ n)) - np.linalg.norm(n)) > 1e-4:
            return None
        k = float(g.lps_to_ijk(self.plane.origin_lps)[2])
        if abs(k - round(k)) > 1e-3 or not 0 <= round(k) < g.shape_ijk[2]:
            return None
        return int(round(k))

    def slice_position_mm(self) -> float:
        """Signed position of the current plane along its normal (LPS projection of its centre)."""
        plane = self.plane
        c = plane.pixel_to_lps((plane.shape[1] - 1) / 2, (plane.shape[0] - 1) / 2)
        return float(c @ plane.normal_lps)

    # ---- pixels ------------------------------------------------------------------------
    def raw(self) -> np.ndarray:
        return mpr.reslice(self.volume.array, self.volume.geometry, self.plane, order=self.interpolation,
                           fill=self.fill, slab_mm=self.slab_mm, slab_mode=self.slab_mode)

    def frame(self) -> Frame:
        raw = self.raw()
        pix = render_slice(raw, self.options.wl, self.options.invert, lut_cache=self._lut)
        return Frame(pix, self.plane.spacing_mm, self.plane)

    def pixel_to_lps(self, col: float, row: float) -> np.ndarray:
        return self.plane.pixel_to_lps(col, row)

    def value_at(self, col: float, row: float) -> float | None:
        p = self.pixel_to_lps(col, row)
        ijk = np.rint(self.volume.geometry.lps_to_ijk(p)).astype(int)
        ni, nj, nk = self.volume.geometry.shape_ijk
        if not (0 <= ijk[0] < ni and 0 <= ijk[1] < nj and 0 <= ijk[2] < nk):
            return None
        return float(self.volume.array[ijk[2], ijk[1], ijk[0]])

    def edge_labels(self) -> EdgeLabels:
        if not self.calibrated():  # the plain-grid fallback has no patient directions: sides unknown
            return EdgeLabels(UNKNOWN_SIDE, UNKNOWN_SIDE, UNKNOWN_SIDE, UNKNOWN_SIDE)
        p = self.plane
        right, down = screen_directions(p.right_lps, p.down_lps, self.options.rotation_deg,
                                        self.options.flip_h, self.options.flip_v)
        return edge_labels(right, down)

    def thickness_mm(self) -> float:
        if self.slab_mm > 0:
            return self.slab_mm
        if self.orientation == self.volume.plane.value and self.volume.slice_thickness_mm:
            return float(self.volume.slice_thickness_mm)
        return float(self.stack.step_mm)

    @property
    def frame_of_reference_uid(self) -> str | None:
        """None when the geometry is unreliable: its plain 1 mm grid is not in patient space, so
        no crosshair, synchronised scroll, reference line or other series' annotation may link
        through it, even though the files name a frame of reference."""
        return self.volume.frame_of_reference_uid if self.volume.geometry_reliable else None

    def geometry_warning(self) -> str:
        """What the reader must know about the shape and sides of this view ("" when reliable)."""
        if self.calibrated():
            return ""
        if self.orientation != self.volume.plane.value:
            return "MPR of unreliable geometry: shape and sides unknown"
        return "Geometry unreliable: sides unknown"

    def scale_label(self) -> str:
        # a volume is in patient mm unless its geometry failed the load-time check (plain 1 mm grid)
        return "" if self.calibrated() else "geometry unreliable: no mm"

    def calibrated(self) -> bool:
        return self.volume.geometry_reliable

    def apply_preset(self, name: str) -> None:
        if name == "auto":
            self.options.wl, self.options.wl_source = (
                auto_window(self.volume.array, ignore_below=None if self.volume.units == "HU" else 0.0),
                "auto 1-99%",
            )
        elif name == "default":
            self.options.wl, self.options.wl_source = default_window(
                self.volume.modality.value, self.volume.array, self.volume.window_center_width
            )
        else:
            self.options.wl, self.options.wl_source = preset(name), name.replace("_", " ")


class RadiographDisplay:
    """A projection radiograph; rotation/flip are display transforms, mm come from calibration."""

    kind = "radiograph"
    n_slices = 1
    index = 0
    orientation = "native"
    frame_of_reference_uid = None

    def __init__(self, radiograph: Radiograph) -> None:
        self.radiograph = radiograph
        self.options = DisplayOptions(invert=False)
        self._lut = LutCache()
        self._reduced = ReducedImageCache()
        v = radiograph.voi_lut
        self.voi = VoiTable(v.first_mapped, v.bits, np.asarray(v.table)) if v is not None else None
        self.apply_preset("default")

    def apply_preset(self, name: str) -> None:
        r = self.radiograph
        if name == "default" and r.window_center_width is not None and r.window_center_width[1] > 0:
            self.options.wl, self.options.wl_source = WindowLevel(*r.window_center_width), "DICOM window"
        elif name == "default" and self.voi is not None and r.array.dtype in (np.int16, np.uint16):
            self.options.wl, self.options.wl_source = None, "VOI LUT"
        else:
            self.options.wl, self.options.wl_source = auto_window(r.array), "auto 1-99%"

    @property
    def effective_wl(self) -> WindowLevel:
        if self.options.wl is not None:
            return self.options.wl
        return auto_window(self.radiograph.array)

    def set_index(self, index: int) -> bool:
        return False

    def scroll(self, delta: int) -> bool:
        return False

    def move_to_point(self, point_lps) -> bool:
        return False

    @property
    def source_shape(self) -> tuple[int, int]:
        """Full-resolution (rows, cols): measurements are always in these pixels."""
        rows, cols = self.radiograph.array.shape[:2]
        return int(rows), int(cols)

    @property
    def spacing_mm(self) -> tuple[float, float]:
        sp = self.radiograph.calibration.spacing_mm
        return (float(sp[0]), float(sp[1])) if sp else (1.0, 1.0)

    def frame(self, max_step: int = 1) -> Frame:
        """The windowed image; ``max_step`` > 1 (fitted smaller than 1:1) windows a box-averaged
        reduced image instead (``Frame.step``), which the view scales back over the full extent."""
        invert = self.options.invert ^ self.radiograph.invert_for_display
        voi = self.voi if self.options.wl is None else None
        step = max(1, int(max_step))
        src = self._reduced.get(self.radiograph.array, step)
        pix = render_slice(src, self.options.wl, invert, voi=voi, lut_cache=self._lut)
        return Frame(pix, self.spacing_mm, None, step, self.source_shape)

    def value_at(self, col: float, row: float) -> float | None:
        a = self.radiograph.array
        c, r = int(round(col)), int(round(row))
        if 0 <= r < a.shape[0] and 0 <= c < a.shape[1]:
            return float(a[r, c])
        return None

    def pixel_to_lps(self, col: float, row: float):
        return None

    def edge_labels(self) -> EdgeLabels | None:
        o = self.options
        return radiograph_edge_labels(self.radiograph.patient_orientation, o.rotation_deg, o.flip_h, o.flip_v)

    def calibrated(self) -> bool:
        cal = self.radiograph.calibration
        return cal.spacing_mm is not None and cal.basis != CalibrationBasis.UNCALIBRATED

    def scale_label(self) -> str:
        cal: Calibration = self.radiograph.calibration
        if not self.calibrated():
            return "uncalibrated"
        return cal.basis.value

    def thickness_mm(self) -> float | None:
        return None

    def slice_position_mm(self) -> float | None:
        return None


class PreviewDisplay:
    """The first image of a series shown while the whole series loads (from load_preview)."""

    kind = "preview"
    n_slices = 1
    index = 0
    orientation = "native"
    frame_of_reference_uid = None

    def __init__(self, pixels: np.ndarray, modality: str = "") -> None:
        self.pixels = np.asarray(pixels)
        if self.pixels.ndim == 3:
            self.pixels = self.pixels[self.pixels.shape[0] // 2]
        self.options = DisplayOptions()
        self.options.wl, self.options.wl_source = (preset("ct_bone"), "CT bone") if modality == "CT" else (
            auto_window(self.pixels), "auto 1-99%")

    def frame(self) -> Frame:
        return Frame(render_slice(self.pixels, self.options.wl, self.options.invert), (1.0, 1.0), None)

    def value_at(self, col: float, row: float) -> float | None:
        c, r = int(round(col)), int(round(row))
        if 0 <= r < self.pixels.shape[0] and 0 <= c < self.pixels.shape[1]:
            return float(self.pixels[r, c])
        return None

    def set_index(self, index: int) -> bool:
        return False

    scroll = set_index
    move_to_point = set_index

    def pixel_to_lps(self, col: float, row: float) -> np.ndarray | None:
        return None

    def edge_labels(self) -> EdgeLabels | None:
        return None

    def calibrated(self) -> bool:
        return False

    def scale_label(self) -> str:
        return ""

    def thickness_mm(self) -> float | None:
        return None

    def slice_position_mm(self) -> float | None:
        return None

    def apply_preset(self, name: str) -> None:
        pass


class Display(Protocol):
    """What every display answers (VolumeDisplay, RadiographDisplay, PreviewDisplay). What only
    one kind has (a plane, a radiograph) is reached after ``isinstance(d, VolumeDisplay)``."""

    kind: str
    index: int
    options: DisplayOptions

    @property
    def n_slices(self) -> int: ...

    def frame(self) -> Frame: ...
    def value_at(self, col: float, row: float) -> float | None: ...
    def pixel_to_lps(self, col: float, row: float) -> np.ndarray | None: ...
    def thickness_mm(self) -> float | None: ...
    def slice_position_mm(self) -> float | None: ...
    def set_index(self, index: int) -> bool: ...
    def scroll(self, delta: int) -> bool: ...
    def calibrated(self) -> bool: ...
    def scale_label(self) -> str: ...
    def edge_labels(self) -> EdgeLabels | None: ...
    def apply_preset(self, name: str) -> None: ...


def make_display(obj: Volume | Radiograph, orientation: str = "native",
                 prep: VolumePrep | None = None) -> VolumeDisplay | RadiographDisplay:
    if isinstance(obj, Volume):
        return VolumeDisplay(obj, orientation, prep)
    if isinstance(obj, Radiograph):
        return RadiographDisplay(obj)
    raise TypeError(f"nothing to display for {type(obj).__name__}")
