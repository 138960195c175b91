"""The transverse process as a tapering plate (a shape of kind "fn" of the phantom), no Qt.

A lumbar transverse process is a flat plate, taller than thick, that leaves the junction of the
pedicle and the superior articular process and tapers laterally to a blunt, rounded tip. As a
superellipsoid of constant section (the phantom's "sq" shape) it read, end on, as a bright bead
behind every body on the lateral radiograph (solid) or an oval ring (with a cancellous core), and
as a hollow ring on the axial CT; tapered, its cortex projects at every radius from the tip's to
the root's, so the bead fades outwards instead of ending in a rim.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TaperedPlate:
    """Inside test in the plate's frame: q2 along the process (root at -length/2, tip at
    +length/2), q0 its height (along the vertebra's axis), q1 its thickness (front to back).
    The section is a superellipse (``exponent``) whose half-sizes shrink linearly from the root
    to ``tip_fraction`` of them at the tip; the last ``cap_mm`` is rounded (an elliptic cap)."""

    length_mm: float
    half_h_mm: float  # half-height at the root
    half_t_mm: float  # half-thickness at the root
    tip_fraction: float
    cap_mm: float
    exponent: float = 2.6

    def __call__(self, q0: np.ndarray, q1: np.ndarray, q2: np.ndarray, shrink: float) -> np.ndarray:
        half_len = np.float32(self.length_mm / 2)
        t = np.clip((q2 + half_len) / np.float32(self.length_mm), 0.0, 1.0)
        f = np.float32(1.0) - np.float32(1.0 - self.tip_fraction) * t
        h = self.half_h_mm * f - shrink
        th = self.half_t_mm * f - shrink
        end = half_len - shrink
        cap = np.float32(self.cap_mm)
        e = np.clip((q2 - (end - cap)) / cap, 0.0, None)
        room = np.maximum(1.0 - e * e, 0.0)
        x = self.exponent
        m = (np.abs(q0) / np.maximum(h, 0.1)) ** x + (np.abs(q1) / np.maximum(th, 0.1)) ** x <= room ** (x / 2)
        # the root is buried in the pedicle: not shrunk (no cortex across it)
        return m & (q2 >= -half_len) & (q2 <= end) & (h > 0) & (th > 0)
