"""Handlers of the Image / MPR / Tools actions: they act on the active viewport through its
display (app.viewer.display) and ask it to re-render. No widget-to-widget calls."""

from __future__ import annotations

from collections.abc import Callable

from app.ui.viewer.grid import ViewerGrid
from app.viewer.display import VolumeDisplay
from app.viewer.state import ViewerState

SLAB_MM = 10.0


class ViewActionHandlers:
    def __init__(self, grid: ViewerGrid, state: ViewerState) -> None:
        self.grid = grid
        self.state = state

    def _view(self):
        return self.grid.active

    def _display(self):
        v = self._view()
        return v.display if v is not None else None

    def _rerender(self) -> None:
        v = self._view()
        if v is not None:
            v.refresh()
            self.grid.update_references()

    def preset(self, name: str) -> None:
        d = self._display()
        if d is not None:
            d.apply_preset(name)
            self._rerender()

    def invert(self) -> None:
        d = self._display()
        if d is not None:
            d.options.invert = not d.options.invert
            self._rerender()

    def rotate(self, deg: int) -> None:
        d = self._display()
        if d is not None:
            d.options.rotation_deg = (d.options.rotation_deg + deg) % 360
            self._rerender()
            self._view().reset_view()

    def flip(self, horizontal: bool) -> None:
        d = self._display()
        if d is not None:
            if horizontal:
                d.options.flip_h = not d.options.flip_h
            else:
                d.options.flip_v = not d.options.flip_v
            self._rerender()

    def zoom(self, factor: float) -> None:
        v = self._view()
        if v is not None:
            v.zoom_by(factor)

    def reset(self) -> None:
        v, d = self._view(), self._display()
        if v is None or d is None:
            return
        o = d.options
        o.rotation_deg, o.flip_h, o.flip_v, o.invert = 0, False, False, False
        d.apply_preset("default")
        if isinstance(d, VolumeDisplay):
            d.slab_mm = 0.0
        v.refresh()
        v.reset_view()

    def cine(self, on: bool) -> None:
        v = self._view()
        if v is not None:
            v.toggle_cine() if on != v._cine.isActive() else None

    def orientation(self, name: str) -> None:
        v, d = self._view(), self._display()
        if not isinstance(d, VolumeDisplay):
            return
        centre = d.plane.pixel_to_lps((d.plane.shape[1] - 1) / 2, (d.plane.shape[0] - 1) / 2)
        point = self.state.crosshair_lps if self.state.crosshair_lps is not None else centre
        d.set_orientation(name, keep_point_lps=point)
        v.refresh()
        v.reset_view()
        self.grid.update_references()

    def tilt(self, about: str, deg: float) -> None:
        _v, d = self._view(), self._display()
        if isinstance(d, VolumeDisplay):
            d.tilt(about, deg)
            self._rerender()

    def slab(self, mode: str, on: bool) -> None:
        d = self._display()
        if isinstance(d, VolumeDisplay):
            d.slab_mm = SLAB_MM if on else 0.0
            d.slab_mode = mode
            self._rerender()

    def handlers(self) -> dict[str, Callable]:
        s = self.state
        return {
            "mode.wl": lambda on: s.set_mode("wl"),
            "mode.pan": lambda on: s.set_mode("pan"),
            "mode.zoom": lambda on: s.set_mode("zoom"),
            "mode.crosshair": lambda on: s.set_mode("crosshair"),
            "mode.oblique": lambda on: s.set_mode("oblique"),
            "view.preset_bone": lambda: self.preset("ct_bone"),
            "view.preset_soft": lambda: self.preset("ct_soft_tissue"),
            "view.preset_auto": lambda: self.preset("auto"),
            "view.preset_default": lambda: self.preset("default"),
            "view.invert": self.invert,
            "view.rotate_cw": lambda: self.rotate(90),
            "view.rotate_ccw": lambda: self.rotate(-90),
            "view.flip_h": lambda: self.flip(True),
            "view.flip_v": lambda: self.flip(False),
            "view.zoom_in": lambda: self.zoom(1.25),
            "view.zoom_out": lambda: self.zoom(0.8),
            "view.reset": self.reset,
            "view.cine": self.cine,
            "mpr.axial": lambda: self.orientation("axial"),
            "mpr.sagittal": lambda: self.orientation("sagittal"),
            "mpr.coronal": lambda: self.orientation("coronal"),
            "mpr.tilt_left": lambda: self.tilt("vertical", -5.0),
            "mpr.tilt_right": lambda: self.tilt("vertical", 5.0),
            "mpr.tilt_up": lambda: self.tilt("horizontal", -5.0),
            "mpr.tilt_down": lambda: self.tilt("horizontal", 5.0),
            "mpr.slab_mip": lambda on: self.slab("mip", on),
            "mpr.slab_avg": lambda on: self.slab("mean", on),
            "view.sync_scroll": lambda on: s.set("sync_scroll", bool(on)),
            "view.overlays": lambda on: s.set("show_overlays", bool(on)),
            "view.anonymise": lambda on: s.set("anonymise", bool(on)),
            "view.reference_lines": lambda on: s.set("show_reference_lines", bool(on)),
        }
