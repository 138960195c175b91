"""The spinous process as a blade (a shape of kind "fn" of the phantom), no Qt.

Seen from the side (the lateral radiograph, the mid-line sagittal CT and MR) a lumbar spinous
process is a hatchet: a thin blade that leaves the laminae low and narrow, runs back and a little
down, and grows taller towards a thickened tip whose posterior end is rounded; its lower border
flares more than its upper (the caudal tubercle). As an elliptic prism with flat ends plus a
superquadric tip it read as a rectangle on the mid-line sagittal and as a chain of boxes on the
lateral.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SpinousBlade:
    """Inside test in the blade's frame: q2 along the blade (base at -length/2, tip at +length/2),
    q1 across it in the sagittal plane (positive = caudal side), q0 = its thickness (patient x)."""

    length_mm: float
    half_h_base_mm: float  # half-height where the blade leaves the laminae
    half_h_tip_mm: float  # half-height at the tip
    half_t_base_mm: float  # half-thickness of the blade
    half_t_tip_mm: float  # half-thickness of the bulbous tip
    cap_mm: float  # the tip's rounded end: an elliptic cap this long

    def __call__(self, q0: np.ndarray, q1: np.ndarray, q2: np.ndarray, shrink: float) -> np.ndarray:
        half_len = np.float32(self.length_mm / 2)
        t = np.clip((q2 + half_len) / np.float32(self.length_mm), 0.0, 1.0)
        grow = t ** 1.5
        dh = np.float32(self.half_h_tip_mm - self.half_h_base_mm)
        # the caudal border flares more than the cranial one (the tip's caudal tubercle)
        h_down = self.half_h_base_mm + 1.25 * dh * grow - shrink
        h_up = self.half_h_base_mm + 0.75 * dh * grow - shrink
        h = np.where(q1 > 0, h_down, h_up)
        bulb = np.clip((t - 0.55) / 0.45, 0.0, 1.0)
        th = self.half_t_base_mm + (self.half_t_tip_mm - self.half_t_base_mm) * bulb * bulb * (3 - 2 * bulb) - shrink
        v = np.abs(q1) / np.maximum(h, 0.1)
        # the tip's end is rounded: within cap_mm of the end the blade's section shrinks along an ellipse
        end = half_len - shrink
        cap = np.float32(self.cap_mm)
        e = np.clip((q2 - (end - cap)) / cap, 0.0, None)
        m = (np.abs(q0) / np.maximum(th, 0.1)) ** 4 + v ** 4 <= np.maximum(1.0 - e * e, 0.0) ** 2
        # the base is buried in the laminae: not shrunk (no cortex across it)
        return m & (q2 >= -half_len) & (q2 <= end) & (h > 0) & (th > 0)
