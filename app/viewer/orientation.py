"""Orientation labels (A/P/L/R/S/I) for the edges of a view, computed from geometry.

For a direction in LPS, the label lists the patient axes the direction points along, dominant
first: ``(1, 0, 0)`` -> "L", ``(0.8, -0.6, 0)`` -> "LA". A secondary axis is included when its
component is at least ``OBLIQUE_MIN`` (0.2, about 11.5 degrees of tilt), so a plane tilted a few
degrees keeps a single letter and a true oblique gets a combined label.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OBLIQUE_MIN = 0.2

_POS = ("L", "P", "S")  # +x, +y, +z in LPS
_NEG = ("R", "A", "I")

# DICOM Patient Orientation (0020,0020) letters -> LPS unit vectors (H = head, F = foot)
_LETTER_LPS = {
    "L": (1, 0, 0), "R": (-1, 0, 0), "P": (0, 1, 0), "A": (0, -1, 0),
    "H": (0, 0, 1), "S": (0, 0, 1), "F": (0, 0, -1), "I": (0, 0, -1),
}


def direction_label(direction_lps, oblique_min: float = OBLIQUE_MIN) -> str:
    v = np.asarray(direction_lps, dtype=np.float64).reshape(3)
    n = np.linalg.norm(v)
    if n == 0:
        return ""
    v = v / n
    order = np.argsort(-np.abs(v), kind="stable")
    letters = []
    for rank, ax in enumerate(order):
        c = v[ax]
        if rank > 0 and abs(c) < oblique_min:
            break
        letters.append(_POS[ax] if c > 0 else _NEG[ax])
    return "".join(letters)


@dataclass(frozen=True)
class EdgeLabels:
    left: str
    right: str
    top: str
    bottom: str


def edge_labels(right_lps, down_lps) -> EdgeLabels:
    """Labels for the four edges of a view whose screen right / down point along the given LPS
    directions."""
    r = np.asarray(right_lps, dtype=np.float64)
    d = np.asarray(down_lps, dtype=np.float64)
    return EdgeLabels(direction_label(-r), direction_label(r), direction_label(-d), direction_label(d))


def patient_orientation_vector(code: str) -> np.ndarray | None:
    """A DICOM Patient Orientation value (e.g. "L", "FP", "AF") as a unit LPS vector."""
    code = (code or "").strip().upper()
    if not code or any(ch not in _LETTER_LPS for ch in code):
        return None
    v = np.zeros(3)
    weight = 1.0
    for ch in code:  # first letter dominant
        v += weight * np.asarray(_LETTER_LPS[ch], dtype=np.float64)
        weight *= 0.6
    return v / np.linalg.norm(v)


def display_transform(rotation_deg: int = 0, flip_h: bool = False, flip_v: bool = False) -> np.ndarray:
    """2x2 matrix mapping image (column, row) unit steps to screen (right, down) steps:
    the image is flipped first, then rotated clockwise by ``rotation_deg`` (multiple of 90)."""
    f = np.diag([-1.0 if flip_h else 1.0, -1.0 if flip_v else 1.0])
    q = (int(rotation_deg) // 90) % 4
    # clockwise on screen (y down): (x, y) -> (-y, x)
    r = np.linalg.matrix_power(np.array([[0.0, -1.0], [1.0, 0.0]]), q)
    return r @ f


def screen_directions(col_dir_lps, row_dir_lps, rotation_deg: int = 0, flip_h: bool = False,
                      flip_v: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Screen right and down in LPS for an image whose columns increase along ``col_dir_lps``
    (the DICOM row direction) and rows along ``row_dir_lps``, after rotation/flip."""
    m = display_transform(rotation_deg, flip_h, flip_v)
    inv = np.linalg.inv(m)  # screen step -> image step
    basis = np.stack([np.asarray(col_dir_lps, float), np.asarray(row_dir_lps, float)], axis=1)  # 3x2
    right = basis @ inv[:, 0]
    down = basis @ inv[:, 1]
    return right, down


def radiograph_edge_labels(patient_orientation: tuple[str, str], rotation_deg: int = 0,
                           flip_h: bool = False, flip_v: bool = False) -> EdgeLabels | None:
    """Edge labels of a projection radiograph from Patient Orientation (row, column directions)."""
    if not patient_orientation or len(patient_orientation) < 2:
        return None
    a = patient_orientation_vector(patient_orientation[0])
    b = patient_orientation_vector(patient_orientation[1])
    if a is None or b is None:
        return None
    right, down = screen_directions(a, b, rotation_deg, flip_h, flip_v)
    return edge_labels(right, down)
