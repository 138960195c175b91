"""Render a case's phantom into pixel arrays: axial CT (HU), sagittal MR (T1, T2, STIR) and
radiographs (digitally reconstructed: parallel ray sums of X-ray attenuation), no Qt.

All three come from ``phantom.label_volume`` on different grids, so they show one anatomy in
one LPS patient frame. Noise is seeded from the case seed: the output is deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.findings.model import Level
from app.samples import labels as T
from app.samples.cases import CaseSpec
from app.samples.phantom import Grid, _soft_2d, label_volume, model_for, pars_info, soft_mu_2d
from app.samples.texture import trabecular_factor

# --------------------------------------------------------------------------- helpers


def _blur3(a: np.ndarray, axis: int, w: float = 0.25) -> np.ndarray:
    """[w, 1-2w, w] smoothing along ``axis`` with edge replication."""
    pad = [(0, 0)] * a.ndim
    pad[axis] = (1, 1)
    p = np.pad(a, pad, mode="edge")
    n = a.shape[axis]
    sl = lambda s: tuple(slice(s, s + n) if i == axis else slice(None) for i in range(a.ndim))  # noqa: E731
    return w * p[sl(0)] + (1 - 2 * w) * p[sl(1)] + w * p[sl(2)]


def _gauss_kernel(sigma: float) -> np.ndarray:
    r = max(1, int(math.ceil(3 * sigma)))
    x = np.arange(-r, r + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def _gauss_blur(a: np.ndarray, sigma: float, axes=(0, 1)) -> np.ndarray:
    out = a.astype(np.float64)
    k = _gauss_kernel(sigma)
    r = (len(k) - 1) // 2
    for ax in axes:
        pad = [(0, 0)] * out.ndim
        pad[ax] = (r, r)
        p = np.pad(out, pad, mode="edge")
        acc = np.zeros_like(out)
        n = out.shape[ax]
        for i, w in enumerate(k):
            sl = tuple(slice(i, i + n) if d == ax else slice(None) for d in range(out.ndim))
            acc += w * p[sl]
        out = acc
    return out


def _box_blur(a: np.ndarray, size: int) -> np.ndarray:
    """Moving average of odd ``size`` along both axes (cumulative sums, edge replication)."""
    r = size // 2
    out = a.astype(np.float64)
    for ax in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[ax] = (r + 1, r)
        c = np.cumsum(np.pad(out, pad, mode="edge"), axis=ax)
        n = out.shape[ax]
        hi = tuple(slice(size, size + n) if d == ax else slice(None) for d in range(2))
        lo = tuple(slice(0, n) if d == ax else slice(None) for d in range(2))
        out = (c[hi] - c[lo]) / size
    return out


def _rng(case: CaseSpec, stream: int) -> np.random.Generator:
    return np.random.default_rng([case.seed, stream])


def _spine_extent(case: CaseSpec):
    g = model_for(case).geometry
    return g


# --------------------------------------------------------------------------- CT


@dataclass(frozen=True)
class VolumeGeometry:
    """DICOM geometry of a rendered slice stack (all LPS mm)."""

    row_cosine: tuple[float, float, float]  # direction of increasing column index
    col_cosine: tuple[float, float, float]  # direction of increasing row index
    positions: tuple[tuple[float, float, float], ...]  # ImagePositionPatient per slice
    pixel_spacing: tuple[float, float]  # (row spacing, column spacing)
    slice_thickness: float
    slice_spacing: float


CT_MATRIX = 320  # columns (patient x)
CT_PIXEL_MM = 0.55  # targeted field of view: 176 x 158 mm
CT_SLICE_MM = 1.0
CT_ROWS = 288  # anterior-posterior
CT_NOISE_HU = 30.0  # soft-tissue noise SD of a bone (sharp) kernel
_CT_SUB = 2  # samples per pixel along each axis (partial volume at cortical edges)


def ct_extent_z(case: CaseSpec) -> tuple[float, float]:
    """Top and bottom z (mm) of the CT: L3 superior endplate to the S2 segment."""
    g = model_for(case).geometry
    l3 = g.poses[Level.L3]
    top = l3.origin[2] + l3.half[2] + 4.0
    s1 = g.poses[Level.S1]
    bottom = s1.origin[2] - s1.half[2] - 6.0
    return float(top), float(bottom)


def _ct_noise(case: CaseSpec, shape: tuple[int, ...]) -> np.ndarray:
    """Noise of a sharp (bone) reconstruction kernel: white noise with its low frequencies
    taken down (high-pass), correlated over about a pixel, scaled to CT_NOISE_HU."""
    n: np.ndarray = _rng(case, 1).standard_normal(size=shape).astype(np.float32)
    n = _blur3(_blur3(n, 1, 0.18), 2, 0.18)
    n = n - 0.5 * _blur3(_blur3(_blur3(_blur3(n, 1, 0.25), 2, 0.25), 1, 0.25), 2, 0.25)
    return n * np.float32(CT_NOISE_HU / float(n.std()))


def render_ct(case: CaseSpec) -> tuple[np.ndarray, VolumeGeometry]:
    """Axial CT over L3-S1: int16 HU array [k, j, i] (k = slice, superior first) and its geometry.

    Each voxel averages 2 x 2 x 2 samples of the phantom (partial volume at cortical edges);
    cancellous bone carries the trabecular texture; then a slight reconstruction blur and the
    noise of a bone kernel."""
    g = model_for(case).geometry
    top, bottom = ct_extent_z(case)
    n_slices = int(math.floor((top - bottom) / CT_SLICE_MM)) + 1
    zc = top - CT_SLICE_MM * np.arange(n_slices)
    cy = float(np.mean([g.poses[lv].origin[1] + g.poses[lv].half[1] for lv in (Level.L3, Level.L4, Level.L5, Level.S1)])) + 8.0
    x0 = -(CT_MATRIX - 1) / 2 * CT_PIXEL_MM
    y0 = cy - (CT_ROWS - 1) / 2 * CT_PIXEL_MM
    f = _CT_SUB
    sub = (np.arange(f) - (f - 1) / 2) / f
    zs = (zc[:, None] + sub[None, :] * CT_SLICE_MM).ravel()
    step = CT_PIXEL_MM / f
    xs0, ys0 = x0 + sub[0] * CT_PIXEL_MM, y0 + sub[0] * CT_PIXEL_MM
    n0, n1 = CT_ROWS * f, CT_MATRIX * f
    hu_table = T.ct_hu_table(case.adolescent)
    hu = np.empty((n_slices, CT_ROWS, CT_MATRIX), dtype=np.float32)
    yy = ys0 + step * np.arange(n0)
    xx = xs0 + step * np.arange(n1)
    chunk = 8
    for s0 in range(0, n_slices, chunk):
        s1_ = min(n_slices, s0 + chunk)
        zsub = zs[f * s0:f * s1_]
        grid = Grid((xs0, ys0), (0.0, step), (step, 0.0), n0, n1, tuple(float(z) for z in zsub))
        lab = label_volume(case, grid)
        h = hu_table[lab]
        k, a, b = np.nonzero(lab == T.CANCELLOUS)
        if k.size:
            h[k, a, b] *= trabecular_factor(xx[b], yy[a], zsub[k])
        hu[s0:s1_] = h.reshape(s1_ - s0, f, CT_ROWS, f, CT_MATRIX, f).mean(axis=(1, 3, 5))
    hu = _blur3(_blur3(hu, 1, 0.12), 2, 0.12)  # reconstruction point-spread
    hu = np.clip(np.rint(hu + _ct_noise(case, hu.shape)), -1024, 3071).astype(np.int16)
    geo = VolumeGeometry(
        row_cosine=(1.0, 0.0, 0.0), col_cosine=(0.0, 1.0, 0.0),
        positions=tuple((float(x0), float(y0), float(z)) for z in zc),
        pixel_spacing=(CT_PIXEL_MM, CT_PIXEL_MM), slice_thickness=CT_SLICE_MM, slice_spacing=CT_SLICE_MM)
    return hu, geo


# --------------------------------------------------------------------------- MR

MR_MATRIX = 256
MR_PIXEL_MM = 0.9
MR_SLICES = 15
MR_SLICE_MM = 3.5
MR_SCALE = 0.4  # stored signal units per table unit


def mr_field(case: CaseSpec) -> tuple[float, float]:
    """(centre z, centre y) of the sagittal MR field of view."""
    g = model_for(case).geometry
    zc = (g.poses[Level.L1].origin[2] + g.poses[Level.S1].origin[2]) / 2 - 12.0
    yc = float(np.mean([g.poses[lv].origin[1] for lv in g.poses])) + 22.0
    return float(zc), yc


def render_mr_labels(case: CaseSpec) -> tuple[np.ndarray, VolumeGeometry]:
    """Oversampled labels for the sagittal MR: [z (2x rows), x (4 per slice), y (2x columns)]."""
    zc, yc = mr_field(case)
    n = MR_MATRIX * 2
    step = MR_PIXEL_MM / 2
    top = zc + (n - 1) / 2 * step
    zs = tuple(float(top - step * r) for r in range(n))
    x_centres = (np.arange(MR_SLICES) - (MR_SLICES - 1) / 2) * MR_SLICE_MM
    sub = (np.arange(4) - 1.5) * (MR_SLICE_MM / 4)
    xs = (x_centres[:, None] + sub[None, :]).ravel()
    y0 = yc - (n - 1) / 2 * step
    grid = Grid((float(xs[0]), y0), (MR_SLICE_MM / 4, 0.0), (0.0, step), len(xs), n, zs)
    lab = label_volume(case, grid, soft_quantum_mm=0.25)
    y_first = yc - (MR_MATRIX - 1) / 2 * MR_PIXEL_MM
    z_first = zc + (MR_MATRIX - 1) / 2 * MR_PIXEL_MM
    geo = VolumeGeometry(
        row_cosine=(0.0, 1.0, 0.0), col_cosine=(0.0, 0.0, -1.0),
        positions=tuple((float(x), float(y_first), float(z_first)) for x in x_centres),
        pixel_spacing=(MR_PIXEL_MM, MR_PIXEL_MM), slice_thickness=MR_SLICE_MM, slice_spacing=MR_SLICE_MM)
    return lab, geo


def render_mr(case: CaseSpec, sequence: str, lab: np.ndarray) -> np.ndarray:
    """uint16 signal [k, j, i] for "T1", "T2" or "STIR" from ``render_mr_labels``."""
    table = T.mr_signal_table(sequence, case.adolescent)
    sig = table[lab]  # [z, x, y]
    frac = edema_fraction(lab)
    if frac is not None:
        box, e = frac
        sig[box] += (table[T.EDEMA] - sig[box]) * e
    nz, nx, ny = sig.shape
    sig = sig.reshape(nz // 2, 2, nx // 4, 4, ny // 2, 2).mean(axis=(1, 3, 5))  # [row, slice, col]
    sig = np.transpose(sig, (1, 0, 2))  # [slice, row, col]
    sig = _blur3(_blur3(sig, 1, 0.15), 2, 0.15)
    # smooth coil-sensitivity shading: brighter posteriorly (spine coil under the back)
    cols = np.arange(ny // 2, dtype=np.float32)
    shade = 0.75 + 0.35 * (cols / cols[-1])
    sig = sig * shade[None, None, :]
    rng = _rng(case, 10 + ("T1", "T2", "STIR").index(sequence))
    sig = sig * MR_SCALE
    sigma = 5.0
    n1 = rng.normal(0.0, sigma, size=sig.shape)
    n2 = rng.normal(0.0, sigma, size=sig.shape)
    mag = np.sqrt((sig + n1) ** 2 + n2 ** 2)  # Rician magnitude noise
    return np.clip(np.rint(mag), 0, 4095).astype(np.uint16)


def _box1d(a: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Moving average of odd ``size`` along ``axis`` (cumulative sums, edge replication)."""
    r = size // 2
    pad = [(0, 0)] * a.ndim
    pad[axis] = (r + 1, r)
    c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis, dtype=np.float64)
    n = a.shape[axis]
    hi = tuple(slice(size, size + n) if d == axis else slice(None) for d in range(a.ndim))
    lo = tuple(slice(0, n) if d == axis else slice(None) for d in range(a.ndim))
    return ((c[hi] - c[lo]) / size).astype(np.float32)


MR_EDEMA_FALLOFF_MM = 3.5  # about the Gaussian sigma of the edge of marrow oedema


def edema_fraction(lab: np.ndarray) -> tuple[tuple[slice, ...], np.ndarray] | None:
    """Oedema as it looks: graded and ill-defined. The oedema labels of the oversampled MR grid
    ([z, x, y] at MR_PIXEL_MM / 2, MR_SLICE_MM / 4, MR_PIXEL_MM / 2) are smoothed (three box
    passes, ~MR_EDEMA_FALLOFF_MM) and the result, restricted to marrow, is the fraction of
    oedema signal mixed into each sample: full in the core, fading into normal marrow.
    Returns (the box it covers, the fraction there), or None without oedema."""
    e = lab == T.EDEMA
    if not e.any():
        return None
    idx = np.nonzero(e)
    steps = (MR_PIXEL_MM / 2, MR_SLICE_MM / 4, MR_PIXEL_MM / 2)
    sizes = [max(3, int(round(MR_EDEMA_FALLOFF_MM * 1.2 / st)) | 1) for st in steps]
    box = tuple(slice(max(int(i.min()) - 2 * sz, 0), min(int(i.max()) + 2 * sz + 1, n))
                for i, sz, n in zip(idx, sizes, lab.shape, strict=True))
    f = e[box].astype(np.float32)
    for axis, sz in enumerate(sizes):
        for _ in range(3):
            f = _box1d(f, sz, axis)
    # patchy: a smooth random field (seeded by the oedema's own shape) modulates the fraction
    rng = np.random.default_rng(int(e.sum()))
    mottle = rng.random(f.shape, dtype=np.float32)
    for axis, sz in enumerate(sizes):
        mottle = _box1d(_box1d(mottle, sz, axis), sz, axis)
    mottle = (mottle - mottle.min()) / max(float(np.ptp(mottle)), 1e-6)
    marrow = np.isin(lab[box], (T.CANCELLOUS, T.EDEMA))
    frac = np.clip(1.5 * f, 0.0, 1.0) * (0.65 + 0.35 * mottle)
    return box, np.where(marrow, frac, 0.0).astype(np.float32)


# --------------------------------------------------------------------------- radiographs

MAGNIFICATION = 1.15
DX_IMAGER_PIXEL_MM = 0.2
DX_OBJECT_PIXEL_MM = DX_IMAGER_PIXEL_MM / MAGNIFICATION
DX_ROWS = 1840  # 368 x 294 mm at the detector: a 35 x 43 cm cassette, collimated
DX_COLS = 1472
DX_DEPTH_STEP_MM = 0.6  # ray step through the spine slab
DX_SOFT_STEP_MM = 1.25  # ray step through the (anti-aliased) soft tissue
DX_SUBSAMPLE = 2  # ray sums computed on every 2nd pixel, then interpolated (before the blur)


@dataclass(frozen=True)
class ViewSpec:
    key: str  # "AP", "LAT", "LT OBL", "RT OBL"
    angle_deg: float  # beam rotated from AP towards patient left
    flip: bool = False  # image columns run opposite to the default detector axis

    @property
    def beam_lps(self) -> np.ndarray:
        a = math.radians(self.angle_deg)
        return np.array([math.sin(a), math.cos(a), 0.0])

    @property
    def column_axis_lps(self) -> np.ndarray:
        """Patient direction of increasing column index (image right)."""
        a = math.radians(self.angle_deg)
        u = np.array([math.cos(a), -math.sin(a), 0.0])
        return -u if self.flip else u


VIEWS = {
    "AP": ViewSpec("AP", 0.0),
    "LAT": ViewSpec("LAT", 90.0, flip=True),  # left lateral, anterior on the image left
    "LT OBL": ViewSpec("LT OBL", 45.0),  # left posterior oblique: shows the left pars
    "RT OBL": ViewSpec("RT OBL", -45.0),  # right posterior oblique: shows the right pars
}


@dataclass(frozen=True)
class Projection:
    """Maps patient points to radiograph pixels (row, column) for one view."""

    view: ViewSpec
    centre_lps: tuple[float, float, float]
    rows: int
    cols: int
    object_pixel_mm: float

    def project(self, p_lps) -> tuple[float, float]:
        p = np.asarray(p_lps, dtype=np.float64) - np.asarray(self.centre_lps)
        col = float(p @ self.view.column_axis_lps) / self.object_pixel_mm + (self.cols - 1) / 2
        row = float(-p[2]) / self.object_pixel_mm + (self.rows - 1) / 2
        return row, col


def dx_projection(case: CaseSpec, view_key: str) -> Projection:
    g = model_for(case).geometry
    zc = (g.poses[Level.L1].origin[2] + g.poses[Level.S1].origin[2]) / 2 - 8.0
    yc = float(np.mean([g.poses[lv].origin[1] for lv in g.poses])) + 18.0
    return Projection(VIEWS[view_key], (0.0, yc, float(zc)), DX_ROWS, DX_COLS, DX_OBJECT_PIXEL_MM)


def projected_pars(case: CaseSpec, view_key: str) -> dict:
    """(Level, Side) -> dict of projected pars points on the radiograph (row, col):
    "a" (pedicle end), "b" (IAP end), "mid" (defect point, back fragment), "mid_front"."""
    proj = dx_projection(case, view_key)
    out = {}
    for key, info in pars_info(case).items():
        out[key] = {"a": proj.project(info.a_lps), "b": proj.project(info.b_lps),
                    "mid": proj.project(info.mid_lps), "mid_front": proj.project(info.mid_front_lps),
                    "status": info.status}
    return out


def _soft_ray_sums(case: CaseSpec, proj: Projection, zs: np.ndarray) -> np.ndarray:
    """Soft-tissue line integrals [row, col] over the whole body depth, anti-aliased.

    The body outline moves with the spine's y (lordosis): moving it by dy along y is moving the
    rays by -dy, i.e. by -dy * u_y along the detector columns (the shift along the beam does not
    change a ray sum). So one profile, sampled finely, serves every row."""
    view = proj.view
    d, u = view.beam_lps, view.column_axis_lps
    c = np.asarray(proj.centre_lps)
    mu = T.xray_mu_table(case.adolescent)
    px = proj.object_pixel_mm
    step = DX_SOFT_STEP_MM
    half = 230.0
    depth = -half + (np.arange(int(round(2 * half / step))) + 0.5) * step
    zsp, ysp = model_for(case).spine_y_at_z
    yf = np.interp(zs, zsp, ysp)
    y_ref = float(np.round(np.median(yf)))
    margin = float(np.abs(yf - y_ref).max()) + 2 * px
    cols_mm = (np.arange(proj.cols, dtype=np.float64) - (proj.cols - 1) / 2) * px
    fine = np.arange(cols_mm[0] - margin, cols_mm[-1] + margin + px / 4, px / 4)
    xd = c[0] + depth[:, None] * d[0] + fine[None, :] * u[0]
    yd = c[1] + depth[:, None] * d[1] + fine[None, :] * u[1]
    profile = soft_mu_2d(case, xd, yd, y_ref, mu, step).sum(axis=0) * step
    shift = -(yf - y_ref) * u[1]  # mm along the columns
    return np.stack([np.interp(cols_mm + sh, fine, profile) for sh in shift])


def render_line_integrals(case: CaseSpec, view_key: str) -> np.ndarray:
    """Attenuation line integral (unitless) per pixel [row, col] for one view: the soft tissue
    analytically (anti-aliased), plus, in a slab around the spine, what bone, disc, canal and
    gas add to it, with the trabecular texture of cancellous bone."""
    full_proj = dx_projection(case, view_key)
    f = DX_SUBSAMPLE
    proj = Projection(full_proj.view, full_proj.centre_lps, (full_proj.rows + f - 1) // f,
                      (full_proj.cols + f - 1) // f, full_proj.object_pixel_mm * f)
    view = proj.view
    d = view.beam_lps
    u = view.column_axis_lps
    c = np.asarray(proj.centre_lps)
    mu = T.xray_mu_table(case.adolescent)
    px = proj.object_pixel_mm
    step = DX_DEPTH_STEP_MM
    fine_half = 125.0  # wide enough for the iliac wings on the obliques
    n_fine = int(round(2 * fine_half / step))
    col0 = c[:2] - u[:2] * (proj.cols - 1) / 2 * px
    zs = c[2] + ((proj.rows - 1) / 2 - np.arange(proj.rows)) * px
    out = _soft_ray_sums(case, proj, zs)
    # the slab through the spine: labels minus the soft tissue already counted
    origin = col0 - d[:2] * (fine_half - step / 2)
    zsp, ysp = model_for(case).spine_y_at_z
    yk = np.round(np.interp(zs, zsp, ysp)).astype(int)
    a_idx = np.arange(n_fine, dtype=np.float64)
    b_idx = np.arange(proj.cols, dtype=np.float64)
    xg = origin[0] + a_idx[:, None] * d[0] * step + b_idx[None, :] * u[0] * px
    yg = origin[1] + a_idx[:, None] * d[1] * step + b_idx[None, :] * u[1] * px
    soft_mu = {int(v): mu[_soft_2d(case, xg, yg, float(v))] for v in np.unique(yk)}
    mu_canc = float(mu[T.CANCELLOUS])
    chunk = 48
    for r0 in range(0, proj.rows, chunk):
        r1 = min(proj.rows, r0 + chunk)
        grid = Grid((float(origin[0]), float(origin[1])), (float(d[0] * step), float(d[1] * step)),
                    (float(u[0] * px), float(u[1] * px)), n_fine, proj.cols, tuple(float(z) for z in zs[r0:r1]))
        lab = label_volume(case, grid)
        soft = np.stack([soft_mu[int(v)] for v in yk[r0:r1]])
        out[r0:r1] += (mu[lab] - soft).sum(axis=1, dtype=np.float64) * step
        k, a, b = np.nonzero(lab == T.CANCELLOUS)
        if k.size:
            fac = trabecular_factor(xg[a, b], yg[a, b], zs[r0 + k])
            extra = np.bincount(k * proj.cols + b, weights=(fac - 1.0) * mu_canc * step,
                                minlength=(r1 - r0) * proj.cols)
            out[r0:r1] += extra.reshape(r1 - r0, proj.cols)
    return _upsample(out, f, full_proj.rows, full_proj.cols)


def _upsample(a: np.ndarray, f: int, rows: int, cols: int) -> np.ndarray:
    """Bilinear upsampling by ``f``: coarse pixel i is centred on the full grid's f x f block
    (the coarse grid is centred on the full grid with f times the spacing)."""
    def coords(n_full: int, n_coarse: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = (np.arange(n_full) - (n_full - 1) / 2) / f + (n_coarse - 1) / 2
        pos = np.clip(pos, 0, n_coarse - 1)
        i0 = np.floor(pos).astype(int)
        i1 = np.minimum(i0 + 1, n_coarse - 1)
        return i0, i1, pos - i0
    r0, r1, wr = coords(rows, a.shape[0])
    c0, c1, wc = coords(cols, a.shape[1])
    top = a[r0][:, c0] * (1 - wc) + a[r0][:, c1] * wc
    bot = a[r1][:, c0] * (1 - wc) + a[r1][:, c1] * wc
    return top * (1 - wr)[:, None] + bot * wr[:, None]


def _smooth(a: np.ndarray, size: int) -> np.ndarray:
    """Three passes of a ``size`` moving average: close to a Gaussian of sigma ~ size / 2."""
    return _box_blur(_box_blur(_box_blur(a, size), size), size)


def _low_pass(a: np.ndarray, sigma_px: float) -> np.ndarray:
    """A wide Gaussian-like blur, computed on a 4x smaller image and interpolated back."""
    r, c = a.shape
    small = a[: r - r % 4, : c - c % 4].reshape(r // 4, 4, c // 4, 4).mean(axis=(1, 3))
    size = max(3, int(round(sigma_px / 4 * 2)) | 1)
    return _upsample(_smooth(small, size), 4, r, c)


# detector / exposure model (see render_radiograph)
DX_FOCAL_BLUR_MM = 0.3  # focal-spot penumbra + detector unsharpness (Gaussian sigma at the object)
DX_PHOTONS_UNATTENUATED = 1.0e6  # quanta per pixel without the patient
DX_SCATTER_TO_PRIMARY = 0.45  # behind a grid, lumbar spine
DX_DETAIL_GAIN = (0.6, 0.3)  # unsharp-mask gains at ~5 mm and ~1.5 mm
DX_LATITUDE = 0.85  # how much of the large-scale (25 mm) density variation is taken out
DX_HEEL_PCT = 22.0  # intensity fall-off from the cathode (feet) to the anode (head) end


def render_radiograph(case: CaseSpec, view_key: str) -> np.ndarray:
    """A processed ("for presentation") radiograph: uint16, 12 bits, bone bright.

    Exposure model: primary = heel(row) * exp(-line integral), blurred by the focal spot;
    scatter = a wide blur of the primary (low-frequency signal added); quanta counted with
    Poisson-like noise (normal with variance = counts, correlated over ~1 pixel by the
    detector); then log, a mild unsharp mask and a window, as a DR system's processing does."""
    li = render_line_integrals(case, view_key)
    rows = li.shape[0]
    r = (np.arange(rows) / (rows - 1))[:, None]
    heel = 1.0 - DX_HEEL_PCT / 100.0 * (1.0 - r)  # anode at the top of the image
    primary = heel * np.exp(-li)
    primary = _gauss_blur(primary, DX_FOCAL_BLUR_MM / DX_OBJECT_PIXEL_MM)
    scatter = DX_SCATTER_TO_PRIMARY * _low_pass(primary, 40.0 / DX_OBJECT_PIXEL_MM)
    counts = DX_PHOTONS_UNATTENUATED * (primary + scatter)
    rng = _rng(case, 100 + list(VIEWS).index(view_key))
    noise = _gauss_blur(rng.standard_normal(size=counts.shape), 0.6) / 0.497  # unit variance again
    counts = np.maximum(counts + noise * np.sqrt(counts), 1.0)
    dens = -np.log(counts / DX_PHOTONS_UNATTENUATED)
    # processing: compress the latitude (thick vs thin parts), sharpen the detail, then window
    # on the body (not on the air beside it)
    body = li > 1.0
    wide = _low_pass(dens, 25.0 / DX_OBJECT_PIXEL_MM)
    mid = _smooth(dens, int(5.0 / DX_OBJECT_PIXEL_MM) | 1)
    fine = _smooth(dens, int(1.5 / DX_OBJECT_PIXEL_MM) | 1)
    g_mid, g_fine = DX_DETAIL_GAIN
    enh = dens - DX_LATITUDE * (wide - float(np.median(wide[body]))) + g_mid * (dens - mid) + g_fine * (dens - fine)
    lo, hi = np.percentile(enh[body], 1.0), np.percentile(enh[body], 99.7)
    img = np.clip((enh - lo) / (hi - lo), 0.0, 1.0) ** 1.2
    return np.rint(img * 4000 + 40).astype(np.uint16)
