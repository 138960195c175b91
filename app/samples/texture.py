"""Trabecular texture: a cheap, deterministic 3-D noise field that modulates the density of
cancellous bone (CT numbers, X-ray attenuation, marrow signal), no Qt.

Periodic value noise (a random lattice, trilinearly interpolated), stretched
along patient z so that the pattern reads as the vertical trabeculae of a vertebral body, then
"ridged" (thin bright struts between darker marrow spaces). The
lattice is fixed (seed 0), so a point of the phantom has the same texture in the CT, the MR and
every radiograph.

The lattice is turned 22.5 degrees about the body axis: with its axes along patient x and y, the
ray sums of the AP and lateral radiographs (rays along y or x) collapsed the noise onto its
lattice and showed a fine checkerboard, and the obliques (rays at 45 degrees) a moire; at 22.5
degrees no view's rays run along a lattice axis or diagonal.
"""

from __future__ import annotations

import numpy as np

_N = 64  # lattice points per axis (periodic)
_OCTAVES = ((1.1, 3.0, 1.0),)  # (xy spacing mm, z spacing mm, weight) per octave
_TURN = np.radians(22.5)
_COS, _SIN = float(np.cos(_TURN)), float(np.sin(_TURN))
_LATTICE = np.random.default_rng(0).standard_normal((len(_OCTAVES), _N, _N, _N)).astype(np.float32)


def _value_noise(lattice: np.ndarray, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Trilinear interpolation of a periodic lattice at lattice coordinates (x, y, z)."""
    x, y, z = (np.asarray(v, dtype=np.float32) for v in (x, y, z))
    fx, fy, fz = np.floor(x), np.floor(y), np.floor(z)
    tx, ty, tz = x - fx, y - fy, z - fz
    ix, iy, iz = fx.astype(np.int64) % _N, fy.astype(np.int64) % _N, fz.astype(np.int64) % _N
    jx, jy, jz = (ix + 1) % _N, (iy + 1) % _N, (iz + 1) % _N
    out = np.zeros(np.shape(x), dtype=np.float32)
    for ax_, wx in ((ix, 1 - tx), (jx, tx)):
        for ay_, wy in ((iy, 1 - ty), (jy, ty)):
            for az_, wz in ((iz, 1 - tz), (jz, tz)):
                out += lattice[ax_, ay_, az_] * (wx * wy * wz)
    # unit variance everywhere: interpolating independent normals gives a variance of
    # prod((1 - t)^2 + t^2), half as much between two lattice planes as on one. The rays of every
    # radiograph are horizontal, so a whole row's rays share their z fraction: the ridged
    # noise's mean followed it and every cancellous bone showed a horizontal hatch with the
    # lattice's 3 mm z period (row-mean ripple in the sacrum: see docs/samples.md)
    var = ((1 - tx) ** 2 + tx ** 2) * ((1 - ty) ** 2 + ty ** 2) * ((1 - tz) ** 2 + tz ** 2)
    return out / np.sqrt(var)


def _ridged(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The octaves' ridged noise (about -1 .. 1) at LPS points (mm)."""
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    xr, yr = x * _COS - y * _SIN, x * _SIN + y * _COS
    total = np.zeros(np.shape(x), dtype=np.float32)
    weight = 0.0
    for k, (sxy, sz, wgt) in enumerate(_OCTAVES):
        n = _value_noise(_LATTICE[k], xr / sxy, yr / sxy, np.asarray(z, dtype=np.float32) / sz)
        total += wgt * (1.0 - 2.0 * np.abs(np.tanh(n)))  # ridged: struts where the noise crosses 0
        weight += wgt
    return total / weight


# the mean of the ridged noise, from a fixed sample of points: the factor averages 1, so a
# tissue's mean density is its table value
_RIDGED_MEAN = float(np.mean(_ridged(*np.random.default_rng(1).uniform(0.0, 200.0, size=(3, 200_000))),
                             dtype=np.float64))


def trabecular_factor(x: np.ndarray, y: np.ndarray, z: np.ndarray, depth: float = 0.25) -> np.ndarray:
    """Density multiplier (mean 1, range about 1 - depth .. 1 + depth) of cancellous bone at
    LPS points (mm)."""
    return (1.0 + depth * (_ridged(x, y, z) - _RIDGED_MEAN)).astype(np.float32)
