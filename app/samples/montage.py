"""One PNG per sample case for a quick look at every series: AP and lateral radiographs, both
obliques (lower lumbar crop), CT axial through the L5 pars and sagittal reformats (mid-line and
through each pars), sagittal STIR (mid-line and through the left pars), T2 and T1 (mid-line).
No Qt: numpy + a small PNG writer.

    python -m app.samples.montage sample_dicom/case03_l5_active_fractures --out case03.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pydicom

from app.samples.png import write_png

TILE_H = 420


def _read_series(folder: Path) -> list:
    files = sorted(folder.glob("*.dcm"))
    return [pydicom.dcmread(f) for f in files]


def _window(img: np.ndarray, center: float, width: float) -> np.ndarray:
    lo = center - width / 2
    return (np.clip((img - lo) / width, 0, 1) * 255).astype(np.uint8)


def _first(v):
    try:
        return float(v[0])
    except TypeError:
        return float(v)


def _resize(img: np.ndarray, rows: int, cols: int) -> np.ndarray:
    r = np.linspace(0, img.shape[0] - 1, rows)
    c = np.linspace(0, img.shape[1] - 1, cols)
    r0 = np.floor(r).astype(int)
    c0 = np.floor(c).astype(int)
    r1 = np.minimum(r0 + 1, img.shape[0] - 1)
    c1 = np.minimum(c0 + 1, img.shape[1] - 1)
    wr = (r - r0)[:, None]
    wc = (c - c0)[None, :]
    f = img.astype(np.float64)
    top = f[r0][:, c0] * (1 - wc) + f[r0][:, c1] * wc
    bot = f[r1][:, c0] * (1 - wc) + f[r1][:, c1] * wc
    return top * (1 - wr) + bot * wr


def _tile(img: np.ndarray, aspect: float = 1.0) -> np.ndarray:
    """Scale to TILE_H rows; ``aspect`` = row spacing / column spacing."""
    rows = TILE_H
    cols = max(1, int(round(img.shape[1] * rows / (img.shape[0] * aspect))))
    return np.clip(_resize(img, rows, cols), 0, 255).astype(np.uint8)


def _pars_x(ds) -> tuple[float, float]:
    """Patient x (mm) of the left and right L4/L5 pars for a sample case, else a typical value."""
    try:
        from app.findings.model import Level, Side
        from app.samples.cases import case_by_number
        from app.samples.phantom import pars_info

        number = int(str(ds.PatientID).rsplit("-", 1)[-1])
        info = pars_info(case_by_number(number))
        lv = Level.L5
        return float(info[(lv, Side.LEFT)].mid_lps[0]), float(info[(lv, Side.RIGHT)].mid_lps[0])
    except (ValueError, KeyError, ImportError):
        return 13.0, -13.0


def _ct_sagittal(series: list, x_mm: float) -> np.ndarray | None:
    vol = np.stack([s.pixel_array.astype(np.float32) * float(s.RescaleSlope) + float(s.RescaleIntercept) for s in series])
    x0 = float(series[0].ImagePositionPatient[0])
    dx = float(series[0].PixelSpacing[1])
    i = int(round((x_mm - x0) / dx))
    i = min(max(i, 0), vol.shape[2] - 1)
    # average 3 columns (~2 mm slab) like a thin sagittal MPR
    sl = vol[:, :, max(i - 1, 0):i + 2].mean(axis=2)
    img = _window(sl, 500, 2000)
    return _tile(img, aspect=float(series[0].SliceThickness) / float(series[0].PixelSpacing[0]))


def _l5_pars_z(ds) -> float | None:
    """Patient z (mm) of the L5 pars of a sample case (None if not a sample case)."""
    try:
        from app.findings.model import Level, Side
        from app.samples.cases import case_by_number
        from app.samples.phantom import pars_info

        number = int(str(ds.PatientID).rsplit("-", 1)[-1])
        return float(pars_info(case_by_number(number))[(Level.L5, Side.LEFT)].mid_lps[2])
    except (ValueError, KeyError, ImportError):
        return None


def _ct_axial(series: list, z_mm: float | None) -> np.ndarray:
    zs = [float(s.ImagePositionPatient[2]) for s in series]
    k = len(series) // 2 if z_mm is None else int(np.argmin([abs(z - z_mm) for z in zs]))
    s = series[k]
    hu = s.pixel_array.astype(np.float32) * float(s.RescaleSlope) + float(s.RescaleIntercept)
    return _tile(_window(hu, 500, 2000))


def _mr_slice(series: list, x_mm: float) -> np.ndarray:
    xs = [float(s.ImagePositionPatient[0]) for s in series]
    k = int(np.argmin([abs(x - x_mm) for x in xs]))
    s = series[k]
    arr = s.pixel_array.astype(np.float32)
    return _tile(_window(arr, _first(s.WindowCenter), _first(s.WindowWidth)))


def _dx(series: list, crop: bool = True) -> np.ndarray:
    s = series[0]
    arr = s.pixel_array.astype(np.float32)
    img = _window(arr, _first(s.WindowCenter), _first(s.WindowWidth))
    if crop:  # lower lumbar region, where the dogs are
        r, c = img.shape
        img = img[int(r * 0.25):int(r * 0.85), int(c * 0.12):int(c * 0.88)]
    return _tile(img)


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    """Burn a simple bar with the tile name length as a visual separator (no font rendering)."""
    return tile


def montage(case_dir: Path) -> np.ndarray:
    case_dir = Path(case_dir)
    tiles = []
    for name in ("DX_AP", "DX_LAT"):
        if (case_dir / name).is_dir():
            tiles.append(_dx(_read_series(case_dir / name), crop=False))
    for name in ("DX_LT_OBL", "DX_RT_OBL"):
        if (case_dir / name).is_dir():
            tiles.append(_dx(_read_series(case_dir / name)))
    ref = None
    if (case_dir / "CT_AX_BONE").is_dir():
        ct = _read_series(case_dir / "CT_AX_BONE")
        ct.sort(key=lambda d: -float(d.ImagePositionPatient[2]))
        ref = ct[0]
        tiles.append(_ct_axial(ct, _l5_pars_z(ref)))
        xl, xr = _pars_x(ref)
        for x in (0.0, xl, xr):
            tiles.append(_ct_sagittal(ct, x))
    if (case_dir / "MR_SAG_STIR").is_dir():
        st = _read_series(case_dir / "MR_SAG_STIR")
        xl, xr = _pars_x(st[0])
        for x in (0.0, xl):
            tiles.append(_mr_slice(st, x))
    for name in ("MR_SAG_T2", "MR_SAG_T1"):
        if (case_dir / name).is_dir():
            tiles.append(_mr_slice(_read_series(case_dir / name), 0.0))
    if not tiles:
        raise FileNotFoundError(f"{case_dir}: no sample series found")
    gap = np.full((TILE_H, 6), 40, dtype=np.uint8)
    row = []
    for t in tiles:
        row += [t, gap]
    return np.concatenate(row[:-1], axis=1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m app.samples.montage", description=__doc__.splitlines()[0])
    ap.add_argument("case_dir")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    try:
        img = montage(Path(args.case_dir))
    except (OSError, FileNotFoundError) as exc:
        print(f"montage: {exc}", file=sys.stderr)
        return 1
    write_png(args.out, img)
    print(f"montage: wrote {args.out} ({img.shape[1]}x{img.shape[0]})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
