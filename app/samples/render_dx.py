"""Render a case's phantom as radiographs (AP, lateral, both obliques): digitally reconstructed
parallel ray sums of X-ray attenuation with focal blur, scatter, heel effect and quantum noise, no Qt."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.findings.model import Level
from app.samples import labels as T
from app.samples.cases import CaseSpec
from app.samples.phantom import (
    PSOAS_T_MAX,
    Grid,
    _soft_2d,
    label_volume,
    model_for,
    pars_info,
    psoas_fraction,
    psoas_key,
    psoas_of_key,
    soft_mu_ray_profiles,
)
from app.samples.render_common import box_blur, case_rng, gauss_blur
from app.samples.texture import trabecular_factor

MAGNIFICATION = 1.15
DX_IMAGER_PIXEL_MM = 0.2
DX_OBJECT_PIXEL_MM = DX_IMAGER_PIXEL_MM / MAGNIFICATION
DX_ROWS = 1840  # 368 x 294 mm at the detector: a 35 x 43 cm cassette, collimated
DX_COLS = 1472
DX_DEPTH_STEP_MM = 0.6  # ray step through the spine slab
DX_SOFT_STEP_MM = 1.25  # ray step through the (anti-aliased) soft tissue
DX_DEPTH_PHASES = (0.0, 0.5, 0.25, 0.75)  # per-column sample offsets along the ray (x step), interleaved
DX_SUBSAMPLE = 2  # ray sums computed on every 2nd pixel, then interpolated (before the blur)
DX_PSOAS_PROFILES = 26  # soft-tissue ray-sum profiles along the psoas' growth (~7 mm of height apart)


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
    change a ray sum). So one profile, sampled finely, serves every row, but for the psoas, which
    grows caudally: profiles at ``DX_PSOAS_PROFILES`` psoas fractions, interpolated per row."""
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
    ts = np.linspace(0.0, PSOAS_T_MAX, DX_PSOAS_PROFILES)
    profiles = soft_mu_ray_profiles(case, xd, yd, y_ref, mu, step, ts) * step
    shift = -(yf - y_ref) * u[1]  # mm along the columns
    pos = np.interp(psoas_fraction(case, zs), ts, np.arange(ts.size))
    i0 = np.minimum(np.floor(pos).astype(int), ts.size - 2)
    wt = pos - i0
    return np.stack([np.interp(cols_mm + sh, fine, profiles[i] * (1 - w) + profiles[i + 1] * w)
                     for sh, i, w in zip(shift, i0, wt, strict=True)])


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
    # the slab through the spine: labels minus the soft tissue already counted. The columns are
    # sampled in DX_DEPTH_PHASES interleaved groups, each with its sample points along the rays
    # shifted by a fraction of the step (a dither): with one phase for every ray, a surface
    # nearly parallel to the rays gave chord lengths that jumped in whole steps from column to
    # column, seen as contour bands. Same number of samples.
    zsp, ysp = model_for(case).spine_y_at_z
    yk = np.round(np.interp(zs, zsp, ysp)).astype(int)
    pk = psoas_key(case, zs)
    keys = set(zip(yk.tolist(), pk.tolist(), strict=True))
    mu_canc = float(mu[T.CANCELLOUS])
    a_idx = np.arange(n_fine, dtype=np.float64)
    # and on top of the phases, every ray's samples shifted by its own random fraction of the
    # step: the phases alone left a moire where a thin plate crosses the rays at a grazing
    # angle (the iliac wings on the AP, the alae on the obliques), whose chord lengths still
    # jumped in whole steps along the rows. Random shifts make that error noise (see
    # docs/samples.md for the measure)
    jitter = case_rng(case, 200 + list(VIEWS).index(view_key)).random((proj.rows, proj.cols), dtype=np.float32)
    G = len(DX_DEPTH_PHASES)
    for g, phase in enumerate(DX_DEPTH_PHASES):
        n1 = len(range(g, proj.cols, G))
        origin = col0 + u[:2] * px * g - d[:2] * (fine_half - step * phase)
        b_idx = np.arange(n1, dtype=np.float64)
        xg = origin[0] + a_idx[:, None] * d[0] * step + b_idx[None, :] * u[0] * px * G
        yg = origin[1] + a_idx[:, None] * d[1] * step + b_idx[None, :] * u[1] * px * G
        soft_mu = {(yv, pv): mu[_soft_2d(case, xg, yg, float(yv), psoas_t=psoas_of_key(pv))] for yv, pv in keys}
        chunk = 48
        for r0 in range(0, proj.rows, chunk):
            r1 = min(proj.rows, r0 + chunk)
            grid = Grid((float(origin[0]), float(origin[1])), (float(d[0] * step), float(d[1] * step)),
                        (float(u[0] * px * G), float(u[1] * px * G)), n_fine, n1, tuple(float(z) for z in zs[r0:r1]),
                        shift0=jitter[r0:r1, g::G])
            lab = label_volume(case, grid)
            soft = np.stack([soft_mu[(int(yv), int(pv))] for yv, pv in zip(yk[r0:r1], pk[r0:r1], strict=True)])
            acc = (mu[lab] - soft).sum(axis=1, dtype=np.float64) * step
            k, a, b = np.nonzero(lab == T.CANCELLOUS)
            if k.size:
                sh = jitter[r0 + k, g + G * b] * step
                fac = trabecular_factor(xg[a, b] + sh * d[0], yg[a, b] + sh * d[1], zs[r0 + k])
                extra = np.bincount(k * n1 + b, weights=(fac - 1.0) * mu_canc * step, minlength=(r1 - r0) * n1)
                acc += extra.reshape(r1 - r0, n1)
            out[r0:r1, g::G] += acc
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
    return box_blur(box_blur(box_blur(a, size), size), size)


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
    primary = gauss_blur(primary, DX_FOCAL_BLUR_MM / DX_OBJECT_PIXEL_MM)
    # scatter comes from the patient, not from the air beside it: a wide blur of the primary
    # behind the body only (blurring the unattenuated air too flooded the back and the spine
    # of the lateral with scatter, and its anterior abdomen came out brighter than the spine)
    scatter = DX_SCATTER_TO_PRIMARY * _low_pass(np.where(li > 1.0, primary, 0.0), 40.0 / DX_OBJECT_PIXEL_MM)
    counts = DX_PHOTONS_UNATTENUATED * (primary + scatter)
    rng = case_rng(case, 100 + list(VIEWS).index(view_key))
    noise = gauss_blur(rng.standard_normal(size=counts.shape), 0.6) / 0.497  # unit variance again
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
