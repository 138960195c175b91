"""Turn a loaded series into the display a hanging-protocol cell asks for (Qt-free)."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.dicom.model import Radiograph, RadiographView, Volume
from app.viewer.display import RadiographDisplay, VolumeDisplay, VolumePrep
from app.viewer.hanging import CellSpec
from app.viewer.mpr import volume_center_lps


def pick_radiograph(images: list[Radiograph], cell: CellSpec | None) -> Radiograph:
    wanted = {"xr_left_oblique": RadiographView.LEFT_OBLIQUE, "xr_right_oblique": RadiographView.RIGHT_OBLIQUE}
    if cell is not None and cell.role in wanted:
        for r in images:
            if r.view == wanted[cell.role]:
                return r
    return images[0]


def display_for_cell(cell: CellSpec | None, obj: Any, prep: VolumePrep | None = None) -> tuple[Any, str]:
    """(display, note) for a cell; the note says how a pars sagittal was positioned."""
    if isinstance(obj, list):
        if not obj:
            raise ValueError("the series has no images")
        return RadiographDisplay(pick_radiograph(obj, cell)), ""
    if isinstance(obj, Radiograph):
        return RadiographDisplay(obj), ""
    if not isinstance(obj, Volume):
        raise TypeError(f"cannot display {type(obj).__name__}")
    orientation = cell.orientation if cell is not None else "native"
    d = VolumeDisplay(obj, orientation, prep)
    note = cell.note if cell is not None else ""
    if cell is not None and cell.pars_side and d.prep.pars is not None:
        est = d.prep.pars
        centre = volume_center_lps(obj.geometry)
        point = np.array([est.x_for(cell.pars_side), centre[1], centre[2]])
        d.move_to_point(point)
        side = "R" if cell.pars_side == "right" else "L"
        note = f"{side} pars x {est.x_for(cell.pars_side):.1f} mm ({'auto' if 'automatic' in est.method else est.method})"
    return d, note
