"""Render a case's phantom as sagittal MR (T1, T2, STIR) with graded marrow oedema and Rician noise, no Qt."""

from __future__ import annotations

import itertools

import numpy as np

from app.findings.model import Level
from app.samples import labels as T
from app.samples.cases import CaseSpec
from app.samples.phantom import ALL_LEVELS, Grid, label_volume, model_for
from app.samples.render_common import VolumeGeometry, blur3, box1d, case_rng, open_internal_cortex, smooth_noise
from app.samples.soft_detail import paint_posterior_canal, refine_soft_labels

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


def _mr_grid(case: CaseSpec) -> Grid:
    """The oversampled sagittal grid: [z (2 per row), x (4 per slice), y (2 per column)]."""
    zc, yc = mr_field(case)
    n = MR_MATRIX * 2
    step = MR_PIXEL_MM / 2
    top = zc + (n - 1) / 2 * step
    zs = tuple(float(top - step * r) for r in range(n))
    xs = _slice_centres()[:, None] + (np.arange(4) - 1.5)[None, :] * (MR_SLICE_MM / 4)
    y0 = yc - (n - 1) / 2 * step
    return Grid((float(xs.ravel()[0]), y0), (MR_SLICE_MM / 4, 0.0), (0.0, step), xs.size, n, zs)


def _slice_centres() -> np.ndarray:
    return (np.arange(MR_SLICES) - (MR_SLICES - 1) / 2) * MR_SLICE_MM


def render_mr_labels(case: CaseSpec) -> tuple[np.ndarray, VolumeGeometry]:
    """Oversampled labels for the sagittal MR: [z (2x rows), x (4 per slice), y (2x columns)],
    with the soft-tissue detail of app.samples.soft_detail (fat planes, bowel, vessels)."""
    zc, yc = mr_field(case)
    grid = _mr_grid(case)
    lab = label_volume(case, grid, soft_quantum_mm=0.25)
    refine_soft_labels(case, lab, grid, soft_quantum_mm=0.25)
    paint_posterior_canal(case, lab, grid)
    open_internal_cortex(lab, axis=2, step_mm=MR_PIXEL_MM / 2)
    _cauda_equina_layers(case, lab, grid)
    y_first = yc - (MR_MATRIX - 1) / 2 * MR_PIXEL_MM
    z_first = zc + (MR_MATRIX - 1) / 2 * MR_PIXEL_MM
    geo = VolumeGeometry(
        row_cosine=(0.0, 1.0, 0.0), col_cosine=(0.0, 0.0, -1.0),
        positions=tuple((float(x), float(y_first), float(z_first)) for x in _slice_centres()),
        pixel_spacing=(MR_PIXEL_MM, MR_PIXEL_MM), slice_thickness=MR_SLICE_MM, slice_spacing=MR_SLICE_MM)
    return lab, geo


_ROOT_DEPTHS_MM = (1.0, 2.6)  # layers of roots in front of the dorsal dura (supine patient)
_ROOT_HALF_MM = 0.35


def _cauda_equina_layers(case: CaseSpec, lab: np.ndarray, grid: Grid) -> None:
    """The cauda equina as a sagittal slice shows it: below the conus, thin roots layered in
    the dorsal (dependent) part of the thecal sac, parallel to the dorsal dura, gently wavy.
    Painted as nerve into CSF at set depths in front of the dorsal dura (the phantom's own few
    roots give one line per slice); the depths shift a little from slice to slice."""
    g = model_for(case).geometry
    l1 = g.poses[Level.L1]
    z_tip = float(l1.origin[2] - l1.half[2])  # conus tip at the L1 inferior endplate
    csf = lab == T.CSF
    n = csf.shape[2]
    yi = np.arange(n)
    nxt = np.where(csf, n, yi[None, None, :])
    nxt = np.minimum.accumulate(nxt[..., ::-1], axis=2)[..., ::-1]  # first non-CSF at or behind y
    depth_mm = (nxt - yi[None, None, :]).astype(np.float32) * np.float32(grid.step1_xy[1])
    z = np.asarray(grid.z, dtype=np.float32)[:, None, None]
    x = grid.origin_xy[0] + grid.step0_xy[0] * np.arange(grid.n0)
    rng = np.random.default_rng([case.seed, 30])
    roots = np.zeros_like(csf)
    for j, d0 in enumerate(_ROOT_DEPTHS_MM):
        jitter = rng.uniform(-0.35, 0.35, size=grid.n0).astype(np.float32)[None, :, None]
        phase = rng.uniform(0, 2 * np.pi, size=grid.n0).astype(np.float32)[None, :, None]
        centre = d0 + jitter + 0.3 * np.sin(0.08 * z + phase + j)
        roots |= np.abs(depth_mm - centre) < _ROOT_HALF_MM
    lateral_ok = (np.abs(x) < 8.0)[None, :, None]
    lab[csf & roots & lateral_ok & (z < z_tip)] = T.NERVE


MR_NOISE_SD = 6.0  # Gaussian SD of each quadrature channel (stored units): marrow SNR ~30-40 on T1
MR_MARROW_MOTTLE = 0.07  # SD of the relative variation of normal marrow signal (red / yellow marrow)
# signal (table units) of the basivertebral vein channel: slow flow, bright on T2 / STIR
_BASIVERTEBRAL = {"T1": 300.0, "T2": 720.0, "STIR": 600.0}


def render_mr(case: CaseSpec, sequence: str, lab: np.ndarray) -> np.ndarray:
    """uint16 signal [k, j, i] for "T1", "T2" or "STIR" from ``render_mr_labels``."""
    table = T.mr_signal_table(sequence, case.adolescent)
    sig = table[lab]  # [z, x, y]
    # the labelled oedema starts as normal marrow: edema_fraction grades it (a block otherwise)
    sig[lab == T.EDEMA] = table[T.CANCELLOUS]
    _marrow_texture(case, sequence, lab, sig)
    _basivertebral_veins(case, sequence, lab, sig)
    _flow_signal(case, lab, sig)
    _disc_gradient(lab, sig)
    _intranuclear_cleft(case, sequence, lab, sig)
    frac = edema_fraction(lab)
    if frac is not None:
        box, e = frac
        sig[box] += (table[T.EDEMA] - sig[box]) * e
        _cleft_fluid_within_edema(lab, sig, table, box, e)
    nz, nx, ny = sig.shape
    sig = sig.reshape(nz // 2, 2, nx // 4, 4, ny // 2, 2).mean(axis=(1, 3, 5))  # [row, slice, col]
    sig = np.transpose(sig, (1, 0, 2))  # [slice, row, col]
    sig = blur3(blur3(sig, 1, 0.15), 2, 0.15)
    sig = _bowel_motion(case, sig, _bowel_fraction(lab))
    # smooth coil-sensitivity shading: brighter posteriorly (spine coil under the back)
    cols = np.arange(ny // 2, dtype=np.float32)
    shade = 0.75 + 0.35 * (cols / cols[-1])
    sig = sig * shade[None, None, :]
    rng = case_rng(case, 10 + ("T1", "T2", "STIR").index(sequence))
    sig = sig * MR_SCALE
    n1 = rng.normal(0.0, MR_NOISE_SD, size=sig.shape)
    n2 = rng.normal(0.0, MR_NOISE_SD, size=sig.shape)
    mag = np.sqrt((sig + n1) ** 2 + n2 ** 2)  # Rician magnitude noise
    return np.clip(np.rint(mag), 0, 4095).astype(np.uint16)


BOWEL_LABELS = (T.VISCERA, T.BOWEL_GAS, T.BOWEL_FLUID, T.FAECES, T.CHYME)
MR_BOWEL_BLUR_MM = 2.5  # peristalsis over a ~4 min acquisition smears the loops over a few mm
MR_BOWEL_MIX = 0.85  # how much of the smeared signal replaces the sharp one among the loops
# the smear's weight follows the bowel fraction smoothed over this: at ~7 mm (and 3x the
# fraction) the mesenteric fat between the loops was smeared too and the whole abdomen read as
# one mottle; at ~3 mm the fat between loops keeps its own signal (bright on T1 / T2, dark on STIR)
MR_BOWEL_REACH_MM = 3.0
MR_BOWEL_MOTTLE = 0.14  # SD of the relative signal variation of the smeared bowel


def _bowel_fraction(lab: np.ndarray) -> np.ndarray:
    """Fraction of each output voxel [slice, row, col] that is bowel (wall or content)."""
    nz, nx, ny = lab.shape
    lut = np.zeros(256, dtype=np.uint8)
    lut[list(BOWEL_LABELS)] = 1
    # a table look-up and an integer sum: np.isin and a float mean were 0.19 s a sequence
    b = lut[lab].reshape(nz // 2, 2, nx // 4, 4, ny // 2, 2).sum(axis=(1, 3, 5), dtype=np.uint8)
    return np.transpose(b.astype(np.float32) / np.float32(16.0), (1, 0, 2))


def _bowel_motion(case: CaseSpec, sig: np.ndarray, bowel: np.ndarray) -> np.ndarray:
    """Bowel on a spine MR is not a set of sharp blobs: peristalsis during the acquisition blurs
    the loops, their walls and the mesenteric fat between them into a mottled intermediate
    texture (fluid-filled loops stay brighter on T2 / STIR, gas darker). On the loops (the
    bowel fraction smoothed over ~MR_BOWEL_REACH_MM) the signal is replaced by most of its blurred self,
    times a ~2 mm random mottle (one field per case: the same bowel on each sequence).
    Applied at the output resolution ([slice, row, col]), where it costs ~1/16 of the grid."""
    px = MR_PIXEL_MM
    reach = max(3, int(round(MR_BOWEL_REACH_MM / px)) | 1)
    w = bowel
    for axis in (1, 2):
        for _ in range(2):
            w = box1d(w, reach, axis)
    w = np.clip(2.0 * w, 0.0, 1.0) * np.float32(MR_BOWEL_MIX)
    size = max(3, int(round(MR_BOWEL_BLUR_MM / px)) | 1)
    smeared = sig
    for axis in (1, 2):
        for _ in range(2):
            smeared = box1d(smeared, size, axis)
    mottle = _standard(smooth_noise(case_rng(case, 25), sig.shape, (1, 3, 3), passes=2))
    smeared = smeared * np.clip(1.0 + np.float32(MR_BOWEL_MOTTLE) * mottle, 0.5, 1.5)
    return (sig + w * (smeared - sig)).astype(np.float32)


def _marrow_texture(case: CaseSpec, sequence: str, lab: np.ndarray, sig: np.ndarray) -> None:
    """Mild heterogeneity of normal marrow (islands of red and yellow marrow, ~4 mm): fattier
    marrow is brighter on T1 and T2 and darker on STIR. One field per case, shared by the three
    sequences (the same marrow); made at the output resolution and repeated onto the grid."""
    nz, nx, ny = lab.shape
    field = _standard(smooth_noise(case_rng(case, 20), (nz // 2, nx // 4, ny // 2), (5, 1, 5), passes=2))
    field = np.repeat(np.repeat(np.repeat(field, 2, 0), 4, 1), 2, 2)
    marrow = np.isin(lab, (T.CANCELLOUS, T.EDEMA))
    sign = -1.5 if sequence == "STIR" else 1.0
    sig[marrow] *= np.clip(1.0 + sign * MR_MARROW_MOTTLE * field[marrow], 0.5, 1.5)


MR_AORTA_FLOW_GAIN = 2.2  # in-plane / diastolic slow flow: patches of the aorta up to ~3x the void's signal
MR_VEIN_FLOW_SD = 0.2  # relative variation of the veins' slow-flow signal


def _flow_signal(case: CaseSpec, lab: np.ndarray, sig: np.ndarray) -> None:
    """Flowing blood is not one uniform value. The aorta is a flow void with patches of signal
    (in-plane flow and slow diastolic flow near the wall, a few cm long along the vessel: a
    field long along z); the IVC and iliac veins (labels.VEIN) carry brighter, more
    heterogeneous slow-flow signal. One field per case (the three sequences see the same
    flow), made at the output resolution over the vessels' box only."""
    art, vein = lab == T.VESSEL, lab == T.VEIN
    either = art | vein
    if not either.any():
        return
    box = []
    for ax in range(3):
        idx = np.nonzero(either.any(axis=tuple(i for i in range(3) if i != ax)))[0]
        unit = (2, 4, 2)[ax]
        box.append(slice(int(idx[0]) // unit * unit, min(-(-(int(idx[-1]) + 1) // unit) * unit, lab.shape[ax])))
    zs = tuple(box)
    shape = tuple((b.stop - b.start) // u for b, u in zip(box, (2, 4, 2), strict=True))
    field = _standard(smooth_noise(case_rng(case, 26), shape, (9, 1, 3), passes=2))
    field = np.repeat(np.repeat(np.repeat(field, 2, 0), 4, 1), 2, 2)
    block = sig[zs]
    a, v = art[zs], vein[zs]
    block[a] *= 1.0 + np.float32(MR_AORTA_FLOW_GAIN) * np.clip(field[a] - 0.5, 0.0, 1.5)
    block[v] *= np.clip(1.0 + np.float32(MR_VEIN_FLOW_SD) * field[v], 0.4, 1.6)
    sig[zs] = block


def _standard(f: np.ndarray) -> np.ndarray:
    """Zero mean, unit SD."""
    return ((f - f.mean()) / max(float(f.std()), 1e-6)).astype(np.float32)


def _basivertebral_veins(case: CaseSpec, sequence: str, lab: np.ndarray, sig: np.ndarray) -> None:
    """The basivertebral vein: a midline channel entering each body from the back at mid-height,
    funnel-shaped (wider at the posterior cortex), within cancellous bone."""
    g = model_for(case).geometry
    grid = _mr_grid(case)
    z = np.asarray(grid.z)
    x = grid.origin_xy[0] + grid.step0_xy[0] * np.arange(grid.n0)
    y = grid.origin_xy[1] + grid.step1_xy[1] * np.arange(grid.n1)
    xs = np.nonzero(np.abs(x) < 4.0)[0]
    for lv in (Level.L1, Level.L2, Level.L3, Level.L4, Level.L5, Level.S1):
        pose = g.poses[lv]
        _hx, hy, hz = pose.half
        o = pose.origin
        ks = np.nonzero(np.abs(z - o[2]) < hy + hz)[0]
        js = np.nonzero(np.abs(y - o[1]) < hy + hz)[0]
        if ks.size == 0 or js.size == 0:
            continue
        Z = z[ks][:, None, None] - o[2]
        X = x[xs][None, :, None] - o[0]
        Y = y[js][None, None, :] - o[1]
        A = pose.axes
        q1 = X * A[0, 1] + Y * A[1, 1] + Z * A[2, 1]
        q2 = X * A[0, 2] + Y * A[1, 2] + Z * A[2, 2]
        depth = np.clip((q1 - 0.3 * hy) / (0.7 * hy), 0.0, 1.0)  # 0 inside .. 1 at the back
        vein = (q1 > 0.3 * hy) & (q1 < hy + 0.5) & (np.abs(q2) < 0.6 + 1.8 * depth ** 2)
        sub = np.ix_(ks, xs, js)
        here = lab[sub]
        # through the marrow and, where it leaves the body, a notch in the posterior cortex
        vein &= (here == T.CANCELLOUS) | ((here == T.CORTICAL) & (q1 > hy - 3.0) & (np.abs(q2) < 1.2))
        block = sig[sub]
        block[vein] = _BASIVERTEBRAL[sequence]
        sig[sub] = block


def _disc_gradient(lab: np.ndarray, sig: np.ndarray) -> None:
    """Nucleus and annulus blend over ~2-3 mm (normalised smoothing inside the disc), so the
    nucleus is brightest at its centre and fades into the dark outer annulus on T2."""
    disc = np.isin(lab, (T.ANNULUS, T.NUCLEUS, T.NUCLEUS_DEGENERATED))
    if not disc.any():
        return
    # only the box round the discs (with the smoothing's reach; ~1/4 of the y range: the whole
    # volume was ~15 % of the MR's render time)
    box = []
    for ax, pad in ((0, 4), (1, 0), (2, 7)):
        idx = np.nonzero(disc.any(axis=tuple(i for i in range(3) if i != ax)))[0]
        box.append(slice(max(int(idx[0]) - pad, 0), min(int(idx[-1]) + 1 + pad, lab.shape[ax])))
    zs = tuple(box)
    m = disc[zs].astype(np.float32)
    v = sig[zs] * m
    for axis, size in ((0, 5), (2, 7)):
        for _ in range(2):
            m = box1d(m, size, axis)
            v = box1d(v, size, axis)
    smooth = v / np.maximum(m, 1e-3)
    d = disc[zs]
    block = sig[zs]
    block[d] = smooth[d]
    sig[zs] = block


CLEFT_MIN_AGE_YEARS = 30.0  # the intranuclear cleft is a normal finding in adult discs
CLEFT_HALF_MM = 0.6
CLEFT_SIGNAL = 0.45  # fraction of the nucleus' T2 / STIR signal left in the cleft


def _intranuclear_cleft(case: CaseSpec, sequence: str, lab: np.ndarray, sig: np.ndarray) -> None:
    """The intranuclear cleft of an adult disc: a thin dark band across the bright nucleus on
    T2 and STIR at the disc's mid-plane (fibrous tissue; absent in adolescents and in a
    degenerated nucleus, which is dark anyway)."""
    if case.age_years < CLEFT_MIN_AGE_YEARS or sequence == "T1":
        return
    g = model_for(case).geometry
    grid = _mr_grid(case)
    z = np.asarray(grid.z)
    x = (grid.origin_xy[0] + grid.step0_xy[0] * np.arange(grid.n0))[None, :, None]
    y = (grid.origin_xy[1] + grid.step1_xy[1] * np.arange(grid.n1))[None, None, :]
    for up, lo in itertools.pairwise(ALL_LEVELS):
        pu, pl = g.poses[up], g.poses[lo]
        c = (pu.origin - pu.axes[:, 2] * pu.half[2] + pl.origin + pl.axes[:, 2] * pl.half[2]) / 2
        n = pu.axes[:, 2] + pl.axes[:, 2]
        n = n / np.linalg.norm(n)
        ks = np.nonzero(np.abs(z - c[2]) < 15.0)[0]
        if ks.size == 0:
            continue
        sl = slice(int(ks[0]), int(ks[-1]) + 1)
        d = (x - c[0]) * n[0] + (y - c[1]) * n[1] + (z[sl][:, None, None] - c[2]) * n[2]
        cleft = (lab[sl] == T.NUCLEUS) & (np.abs(d) < CLEFT_HALF_MM)
        block = sig[sl]
        block[cleft] *= np.float32(CLEFT_SIGNAL)
        sig[sl] = block


MR_EDEMA_FALLOFF_MM = 6.0  # about the Gaussian sigma of the core of marrow oedema
MR_EDEMA_HALO_MM = 9.0  # reach of the feathery fringe beyond the core


def _smooth3(a: np.ndarray, mm: float, steps: tuple[float, ...]) -> np.ndarray:
    """Three box passes of about ``mm`` along every axis (close to a Gaussian)."""
    f = a.astype(np.float32)
    for axis, st in enumerate(steps):
        sz = max(3, int(round(mm * 1.2 / st)) | 1)
        for _ in range(3):
            f = box1d(f, sz, axis)
    return f


def _in_marrow(a: np.ndarray, marrow: np.ndarray, mm: float, steps: tuple[float, ...]) -> np.ndarray:
    """``a`` smoothed over ~``mm`` within the marrow only (normalised convolution: the average
    over the marrow in reach, so the result follows the marrow of the pedicle, pars and body and
    is not diluted where the marrow narrows between cortices)."""
    m = marrow.astype(np.float32)
    return np.where(marrow, _smooth3(a * m, mm, steps) / np.maximum(_smooth3(m, mm, steps), 1e-3), 0.0).astype(np.float32)


MR_CLEFT_REACH_MM = 1.5  # a fracture cleft is fluid-bright where it runs through oedematous marrow


def _cleft_fluid_within_edema(lab: np.ndarray, sig: np.ndarray, table: np.ndarray, box: tuple[slice, ...],
                              e: np.ndarray) -> None:
    """The fluid of an active fracture cleft is bright where the cleft runs through the oedema,
    and fades to intermediate (fibrous debris, partial volume of a 1-3 mm cleft) where it runs on
    through the cortex beyond it. A cleft uniformly fluid-bright along its whole length crossed the
    band of pars oedema as a sharp bright "X" on the parasagittal T2 / STIR (case 3), which read
    as a mark burnt into the image, not a fracture."""
    gap = lab[box] == T.GAP_FLUID
    if not gap.any():
        return
    steps = (MR_PIXEL_MM / 2, MR_SLICE_MM / 4, MR_PIXEL_MM / 2)
    near = _smooth3(e, MR_CLEFT_REACH_MM, steps)
    w = np.clip(near / max(float(near[gap].max()), 1e-6), 0.0, 1.0)[gap]
    fibrous = table[T.GAP_FIBROUS]
    sig[box][gap] = fibrous + (table[T.GAP_FLUID] - fibrous) * w


MR_EDEMA_EDGE_MM = 3.5  # the labelled oedema's own margin is blurred over this (ill-defined)
MR_EDEMA_REACH_MM = 14.0  # the faint tail along the marrow, towards the body and the lamina


def edema_fraction(lab: np.ndarray) -> tuple[tuple[slice, ...], np.ndarray] | None:
    """Oedema as it looks: ill-defined, graded, following the marrow, brightest at the fracture.
    On the oversampled MR grid ([z, x, y] at MR_PIXEL_MM / 2, MR_SLICE_MM / 4, MR_PIXEL_MM / 2):

    - core: the oedema labels with their margin blurred over ~MR_EDEMA_EDGE_MM within the
      marrow, graded by a wider smoothing (~MR_EDEMA_FALLOFF_MM) so it peaks in the middle of
      the oedema and, where there is a fracture gap, next to the gap;
    - fringe: the oedema smoothed within the marrow over ~MR_EDEMA_HALO_MM and
      ~MR_EDEMA_REACH_MM (a faint tail that follows the pedicle into the posterior body and the
      pars into the lamina), broken into streaks along the vertical trabeculae (a random field
      long along z, thin across), so the margin feathers into the neighbouring marrow;
    - patchy: a ~3 mm random field takes up to 30 % off.

    The fraction (0..1, only in marrow) is how much oedema signal is mixed into each sample.
    Returns (the box it covers, the fraction there), or None without oedema."""
    e = lab == T.EDEMA
    if not e.any():
        return None
    idx = np.nonzero(e)
    steps = (MR_PIXEL_MM / 2, MR_SLICE_MM / 4, MR_PIXEL_MM / 2)
    margins = [int(round(1.5 * MR_EDEMA_REACH_MM / st)) for st in steps]
    box = tuple(slice(max(int(i.min()) - m, 0), min(int(i.max()) + m + 1, n))
                for i, m, n in zip(idx, margins, lab.shape, strict=True))
    eb = e[box]
    marrow = np.isin(lab[box], (T.CANCELLOUS, T.EDEMA))
    peak = _smooth3(eb, MR_EDEMA_FALLOFF_MM, steps)
    peak /= max(float(peak.max()), 1e-6)
    gap = np.isin(lab[box], (T.GAP_FLUID, T.GAP_FIBROUS))
    if gap.any():  # brightest at the fracture
        near_gap = _smooth3(gap, MR_EDEMA_FALLOFF_MM, steps)
        peak = 0.4 * peak + 0.6 * near_gap / max(float(near_gap.max()), 1e-6)
    core = _in_marrow(eb, marrow, MR_EDEMA_EDGE_MM, steps) * (0.3 + 0.7 * peak ** 1.5)
    reach = 0.6 * _in_marrow(eb, marrow, MR_EDEMA_HALO_MM, steps) + 0.4 * _in_marrow(eb, marrow, MR_EDEMA_REACH_MM, steps)
    rng = np.random.default_rng(int(e.sum()))  # seeded by the oedema's own shape
    streak = _standard(smooth_noise(rng, eb.shape, tuple(max(3, int(round(mm / st)) | 1)
                                                         for mm, st in zip((4.0, 1.8, 0.9), steps, strict=True))))
    fingers = np.clip(0.5 + 0.5 * streak, 0.0, 1.0)  # streaks along z, about half of the fringe
    patch = np.clip(0.5 + 0.3 * _standard(smooth_noise(rng, eb.shape, tuple(max(3, int(round(3.0 / st)) | 1)
                                                                         for st in steps))), 0.0, 1.0)
    fringe = 0.9 * reach ** 0.6 * fingers
    frac = np.maximum(core, fringe) * (0.7 + 0.3 * patch)
    frac /= max(float(frac.max()), 1e-6)
    return box, np.where(marrow, frac, 0.0).astype(np.float32)
