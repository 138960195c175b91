"""Plain pointer events a view hands to a pluggable interaction tool (no Qt types).

``app.ui.viewer.SliceView`` translates its mouse events into these; an annotation tool
controller (``SliceView.set_tool_controller``) receives them when the viewer is in "tool" mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ViewPointerEvent:
    type: str  # "press" | "move" | "release" | "double"
    col: float  # image pixel column (continuous; pixel centres at integers)
    row: float  # image pixel row
    point_lps: np.ndarray | None  # patient point in mm, None on uncalibrated radiographs/previews
    button: str = ""  # "left" | "middle" | "right" | ""
    modifiers: frozenset = frozenset()  # {"shift", "ctrl", "alt"}
    series_instance_uid: str = ""
    sop_instance_uid: str = ""  # the image under the pointer (radiograph / native slice), "" for MPR
    frame_of_reference_uid: str | None = None
