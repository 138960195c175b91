"""Small phantom grids shared by the soft-tissue tests (no rendering)."""

from __future__ import annotations

import numpy as np

from app.findings.model import Level
from app.samples.cases import case_by_number
from app.samples.phantom import Grid, label_volume, model_for


def level_z(number: int, level: Level, dz: float = 0.0) -> float:
    """Height (patient z, mm) of ``level``'s body centre in sample case ``number``, plus ``dz``."""
    return float(model_for(case_by_number(number)).geometry.poses[level].origin[2]) + dz


def midline_l3_l4(number: int, n_y: int) -> tuple[Grid, np.ndarray]:
    """A small sagittal grid at the mid-line (3 columns 1 mm apart) round the L3-L4 interlaminar
    level, 0.5 mm steps, ``n_y`` samples back from 5 mm in front of L3's centre: (grid, labels
    [z, x, y])."""
    case = case_by_number(number)
    zc = (level_z(number, Level.L3) + level_z(number, Level.L4)) / 2
    yc = float(model_for(case).geometry.poses[Level.L3].origin[1])
    zs = tuple(float(v) for v in np.arange(zc + 25.0, zc - 25.0, -0.5))
    grid = Grid((-1.0, yc - 5.0), (1.0, 0.0), (0.0, 0.5), 3, n_y, zs)
    return grid, label_volume(case, grid, soft_quantum_mm=0.5)
