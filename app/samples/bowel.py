"""Bowel loops of the abdomen as discrete tubes, for the CT and the MR (no Qt).

A radiologist reads the abdomen in front of the lumbar spine as separate loops, each with a
wall and its own content, in mesenteric fat with small vessels between them: small bowel
(2-3 cm calibre) centrally, the colon (4-6 cm, haustrated, mottled faeces with gas) at the
flanks (ascending right, descending left), the transverse colon hanging in front at L2-L3 and
the sigmoid crossing in front of the sacrum. Gas rises: a loop with gas and fluid shows an
air-fluid level, the gas on the anterior (non-dependent, smaller y) side of a supine patient.

Each loop is a chain of capsules (segments with a radius) from a seeded random walk, so the
CT and the MR of a case show the same loops; the radiographs' gas pockets
(app.samples.anatomy_extra, label AIR inside the viscera) become short gas-filled loops here,
so the gas a radiograph shows lies in a loop on the CT. ``paint_bowel`` paints one axial plane.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from app.findings.model import Level
from app.samples import labels as T
from app.samples.cases import CaseSpec
from app.samples.phantom import Grid, model_for

# content of a loop
FLUID, CHYME, COLLAPSED, FAECES, GAS = "fluid", "chyme", "collapsed", "faeces", "gas"
MESENTERIC_FAT_MM = 1.0  # fat rim painted round each loop before it (loops touch across thin fat)
_N_SMALL_BOWEL = 230
_N_MESENTERIC_VESSELS = 24


@dataclass(frozen=True)
class Loop:
    """A bowel loop: capsules [n, 7] = (x0, y0, z0, x1, y1, z1, radius) in LPS mm."""

    capsules: np.ndarray
    content: str
    wall_mm: float
    gas_fraction: float  # of the diameter, on the anterior side (air-fluid level)

    @property
    def fluid_level_y(self) -> float:
        """y (mm) of the air-fluid level: ``gas_fraction`` of the mean diameter behind the most
        anterior point of the lumen (gas collects in the non-dependent part of the loop)."""
        c = self.capsules
        front = float(np.minimum(c[:, 1], c[:, 4]).min() - c[:, 6].max())
        return front + 2.0 * self.gas_fraction * float(c[:, 6].mean())

    @property
    def z_range(self) -> tuple[float, float]:
        c = self.capsules
        r = float(c[:, 6].max())
        return float(np.minimum(c[:, 2], c[:, 5]).min()) - r, float(np.maximum(c[:, 2], c[:, 5]).max()) + r


@dataclass(frozen=True)
class BowelModel:
    loops: tuple[Loop, ...]
    vessels: np.ndarray  # capsules [n, 7] of mesenteric vessels

    @cached_property
    def all_capsules(self) -> tuple[np.ndarray, np.ndarray]:
        """(every loop's capsules [n, 7] in loop order, the loop index of each)."""
        caps = np.concatenate([lp.capsules for lp in self.loops])
        return caps, np.concatenate([np.full(len(lp.capsules), i) for i, lp in enumerate(self.loops)])


def _walk(rng: np.random.Generator, start: np.ndarray, n: int, step: tuple[float, float], radius: tuple[float, float],
          lo: np.ndarray, hi: np.ndarray, turn: float = 0.9) -> np.ndarray:
    """A random walk of ``n`` capsules reflected into the box [lo, hi]."""
    p = start.astype(np.float64)
    d = rng.standard_normal(3)
    d[2] *= 0.6  # loops run more across than up and down
    d /= np.linalg.norm(d)
    out = []
    for _ in range(n):
        d = d + turn * rng.standard_normal(3) * np.array([1.0, 1.0, 0.6])
        d /= np.linalg.norm(d)
        q = p + d * rng.uniform(*step)
        for i in range(3):  # reflect at the box
            if q[i] < lo[i] or q[i] > hi[i]:
                d[i] = -d[i]
                q[i] = min(max(q[i], lo[i]), hi[i])
        out.append((*p, *q, rng.uniform(*radius)))
        p = q
    return np.array(out)


def _chain(points: list[tuple[float, float, float]], radii: list[float]) -> np.ndarray:
    return np.array([(*a, *b, r) for a, b, r in zip(points[:-1], points[1:], radii, strict=False)])


def _haustra(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, r: float, n: int) -> np.ndarray:
    """The colon from ``a`` to ``b`` as ``n`` short capsules whose radius swells and narrows
    (haustra, ~15 mm apart)."""
    t = np.linspace(0.0, 1.0, n + 1)
    pts = a[None, :] + (b - a)[None, :] * t[:, None]
    pts[1:-1] += rng.normal(0.0, 2.5, size=(n - 1, 3))
    radii = [r * (0.82 + 0.18 * abs(math.sin(2.2 * k))) for k in range(n)]
    return _chain([tuple(p) for p in pts], radii)


def anterior_spine_y(case: CaseSpec, z: float | np.ndarray) -> np.ndarray:
    """y (LPS mm) of the anterior surface of the lumbar bodies at height ``z``: the mid-sagittal
    anterior points of L1-S1 interpolated, so it follows the lordosis (and a slipped L5)."""
    g = model_for(case).geometry
    pts = sorted((float(p[2]), float(p[1])) for p in (g.poses[lv].to_lps((0.0, -g.poses[lv].half[1], 0.0))
                                                      for lv in (Level.L1, Level.L2, Level.L3, Level.L4, Level.L5, Level.S1)))
    return np.interp(z, [p[0] for p in pts], [p[1] for p in pts])


SMALL_BOWEL_BACK_JITTER_MM = 14.0
SMALL_BOWEL_FOLLOW = 0.8  # the back of the small-bowel mass follows this much of the lordosis
_FOLLOW_DEPTH_MM = 45.0  # loops this far in front of the mass' back follow it less, down to 0


def _follow_lordosis(case: CaseSpec, caps: np.ndarray, back_y: float, z_ref: float) -> np.ndarray:
    """The small-bowel mass lies on the retroperitoneum, whose front follows the lordosis: shift
    the capsules' ends posteriorly / anteriorly with the anterior surface of the spine relative
    to its value at ``z_ref`` (fully at ``back_y``, fading out over _FOLLOW_DEPTH_MM in front),
    so the back of the mass is not one straight vertical plane on the sagittal MR."""
    out = caps.copy()
    ref = float(anterior_spine_y(case, z_ref))
    for c in (0, 3):
        w = np.clip(1.0 - (back_y - caps[:, c + 1]) / _FOLLOW_DEPTH_MM, 0.0, 1.0)
        out[:, c + 1] += SMALL_BOWEL_FOLLOW * w * (anterior_spine_y(case, caps[:, c + 2]) - ref)
    return out


RECTUM_GAP_MM = 5.0  # mesorectal / presacral fat between the sacrum and the rectum
RECTUM_RADIUS_MM = 13.0


def _anterior_sacrum_y(case: CaseSpec, zs: np.ndarray) -> np.ndarray:
    """y (mm) of the front of the sacrum (or coccyx) on the mid-line at heights ``zs``: the
    first bone along a mid-line row of the phantom's labels, from in front; NaN where none."""
    from app.samples.phantom import label_volume

    g = model_for(case).geometry
    y0 = float(g.poses[Level.S1].origin[1]) - 40.0
    step = 0.5
    grid = Grid((-0.5, y0), (1.0, 0.0), (0.0, step), 2, 260, tuple(float(z) for z in zs))
    bone = np.isin(label_volume(case, grid), tuple(T.BONE_LABELS)).any(axis=1)
    first = np.argmax(bone, axis=1)
    return np.where(bone.any(axis=1), y0 + step * first, np.nan)


def _rectum(case: CaseSpec, s: float) -> Loop:
    """The rectum: from the end of the sigmoid down the front of the sacrum, following its curve
    (RECTUM_GAP_MM of fat behind it), faeces mottled with some gas. Without it the hollow of the
    sacrum was a large empty pad of fat on the sagittal MR."""
    g = model_for(case).geometry
    z_s1 = float(g.poses[Level.S1].origin[2])
    zs = z_s1 - np.array([20.0, 35.0, 50.0, 65.0, 80.0, 95.0, 110.0])
    ya = _anterior_sacrum_y(case, zs)
    ok = ~np.isnan(ya)
    zs, ya = zs[ok], ya[ok]
    r = RECTUM_RADIUS_MM * s
    pts = [(2.0 * math.sin(0.05 * z), float(y) - RECTUM_GAP_MM - r, float(z)) for z, y in zip(zs, ya, strict=True)]
    radii = [r * (0.85 + 0.15 * abs(math.sin(1.3 * k))) for k in range(len(pts) - 1)]
    return Loop(_chain(pts, radii), FAECES, 1.5, 0.15)


def build_bowel(case: CaseSpec) -> BowelModel:
    """The case's bowel loops (seeded by the case)."""
    g = model_for(case).geometry
    rng = np.random.default_rng([case.seed, 18])
    zs, ys_at = model_for(case).spine_y_at_z
    s = 1.0 if not case.adolescent else 0.9
    z_l1 = float(g.poses[Level.L1].origin[2])
    z_l3 = float(g.poses[Level.L3].origin[2])
    z_s1 = float(g.poses[Level.S1].origin[2])
    ys = float(np.interp(z_l3, zs, ys_at))
    front = ys - 16.0  # anterior surface of the vertebral bodies
    loops: list[Loop] = []
    # colon: ascending (patient right = -x), descending (left = +x), transverse, sigmoid
    xc = 92.0 * s
    yc = front - 28.0
    top, bottom = z_l1 + 10.0, z_s1 + 10.0
    loops.append(Loop(_haustra(rng, np.array([-xc, yc, bottom - 25.0]), np.array([-xc, yc - 5, top]), 24.0 * s, 12),
                      FAECES, 1.5, 0.25))  # caecum and ascending colon
    loops.append(Loop(_haustra(rng, np.array([xc, yc, bottom]), np.array([xc + 3, yc, top + 10.0]), 17.0 * s, 11),
                      FAECES, 1.5, 0.2))  # descending colon
    zt = float(g.poses[Level.L2].origin[2]) + 5.0
    yt = front - 85.0
    loops.append(Loop(_chain([(-xc, yc - 5, top), (-50.0, yt, zt), (0.0, yt - 10.0, zt - 25.0), (50.0, yt, zt),
                              (xc + 3, yc, top + 10.0)], [22.0 * s, 21.0 * s, 21.0 * s, 20.0 * s]), FAECES, 1.5, 0.45))
    zsig = z_s1 - 30.0
    loops.append(Loop(_chain([(xc, yc, bottom), (60.0, front - 55.0, zsig + 10.0), (10.0, front - 60.0, zsig - 5.0),
                              (-25.0, front - 35.0, zsig - 25.0), (0.0, front - 10.0, zsig - 55.0)],
                             [15.0, 14.0, 14.0, 15.0]), FAECES, 1.5, 0.3))  # sigmoid to the rectum
    # small bowel: central, below the transverse colon, in front of the retroperitoneum
    lo = np.array([-70.0 * s, front - 110.0, z_s1 - 60.0])
    hi = np.array([70.0 * s, front - 22.0, z_l1 + 5.0])  # jejunum up to L1 behind the transverse colon
    # mostly collapsed loops with mixed content (intermediate on every sequence), some fluid-filled
    # (bright on T2 / STIR), a few with gas; 7-10 mm radius (big round fluid loops of 9-13 mm,
    # one loop in three, read as a cartoon on the sagittal MR: issue 18 review)
    kinds = (COLLAPSED, CHYME, COLLAPSED, FLUID, CHYME, GAS, COLLAPSED, FLUID, CHYME)
    # each loop's own posterior limit, up to SMALL_BOWEL_BACK_JITTER_MM in front of the box's (all
    # at one limit, the loops reflected there made the back of the bowel mass a straight vertical
    # edge on the sagittal MR); its own stream, so the loops' random walks are unchanged
    back_rng = np.random.default_rng([case.seed, 181])
    for _ in range(_N_SMALL_BOWEL):
        kind = kinds[int(rng.integers(len(kinds)))]
        r = {COLLAPSED: (5.5, 8.0), CHYME: (7.0, 10.0), FLUID: (7.0, 10.0), GAS: (6.0, 8.5)}[kind]
        hi_loop = hi.copy()
        hi_loop[1] -= back_rng.uniform(0.0, SMALL_BOWEL_BACK_JITTER_MM)
        start = lo + (hi_loop - lo) * rng.random(3)
        caps = _follow_lordosis(case, _walk(rng, start, int(rng.integers(3, 7)), (10.0, 18.0), (r[0] * s, r[1] * s),
                                            lo, hi_loop), float(hi[1]), z_l3)
        gas = {FLUID: float(rng.choice((0.0, 0.0, 0.0, 0.25))), CHYME: 0.0, COLLAPSED: 0.0, GAS: 0.7}[kind]
        loops.append(Loop(caps, kind, float(rng.uniform(1.0, 1.5)), gas))
    # the third part of the duodenum: across the front of the aorta and IVC at L3 (right to left,
    # rising a little), collapsed, in the retroperitoneal fat between the spine and the loops
    y_d3 = float(anterior_spine_y(case, z_l3)) - 35.0 * s
    loops.append(Loop(_chain([(-48.0 * s, y_d3 + 4.0, z_l3 - 6.0), (-15.0 * s, y_d3, z_l3 - 3.0), (12.0 * s, y_d3, z_l3),
                              (32.0 * s, y_d3 + 3.0, z_l3 + 8.0)], [8.0 * s, 8.5 * s, 8.0 * s]), COLLAPSED, 1.5, 0.0))
    loops.append(_rectum(case, s))
    # the radiographs' gas pockets, each in a short gas-filled loop
    from app.samples.anatomy_extra import PART_GAS  # imports phantom

    for op in model_for(case).ops:
        if op.part == PART_GAS:
            c, hmax = op.shape.centre, float(max(op.shape.half))
            ax = op.shape.axes[:, 0] * hmax * 0.5
            loops.append(Loop(np.array([(*(c - ax), *(c + ax), hmax + 1.5)]), GAS, 1.0, 0.75))
    # mesenteric vessels: from the root (in front of L3, left of the midline) fanning out to the loops
    root = np.array([5.0, front - 30.0, z_l3 + 5.0])
    vessels = []
    for _ in range(_N_MESENTERIC_VESSELS):  # each a gently curved branch, tapering
        tip = lo + (hi - lo) * rng.random(3)
        pts = [root + (tip - root) * t + rng.normal(0.0, 6.0, 3) * math.sin(math.pi * t) for t in (0.0, 0.3, 0.6, 1.0)]
        r = float(rng.uniform(0.6, 1.2))
        vessels += [(*a, *b, r * (1.0 - 0.15 * i)) for i, (a, b) in enumerate(itertools.pairwise(pts))]
    return BowelModel(tuple(loops), np.array(vessels))


_CACHE: dict = {}


def bowel_for(case: CaseSpec) -> BowelModel:
    m = _CACHE.get(case)
    if m is None:
        _CACHE.clear()
        m = _CACHE[case] = build_bowel(case)
    return m


def _xy_boxes(grid: Grid, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Index boxes [n, 4] = (a0, a1, b0, b1) of the plane points inside the x-y rectangles
    [lo_i, hi_i] ([n, 2] each), clipped to the grid (empty where a0 >= a1 or b0 >= b1)."""
    m = np.array([[grid.step0_xy[0], grid.step1_xy[0]], [grid.step0_xy[1], grid.step1_xy[1]]])
    inv = np.linalg.inv(m).T
    o = np.array(grid.origin_xy)
    corners = np.stack([lo, hi, np.stack([lo[:, 0], hi[:, 1]], 1), np.stack([hi[:, 0], lo[:, 1]], 1)], 1) - o  # [n, 4, 2]
    ab = corners @ inv
    a0 = np.maximum(np.floor(ab[..., 0].min(1)).astype(int), 0)
    a1 = np.minimum(np.ceil(ab[..., 0].max(1)).astype(int) + 1, grid.n0)
    b0 = np.maximum(np.floor(ab[..., 1].min(1)).astype(int), 0)
    b1 = np.minimum(np.ceil(ab[..., 1].max(1)).astype(int) + 1, grid.n1)
    return np.stack([a0, a1, b0, b1], 1)


LOBE_FRACTION = 0.14  # lobulation of a loop's outline, of its radius (bowel is not a round tube)


def _capsule_fields(caps: np.ndarray, grid: Grid, z: float, x: np.ndarray, y: np.ndarray, lobes: bool = False):
    """Per capsule crossing the plane at ``z``: (its row in ``caps``, index box (a0, a1, b0, b1),
    signed distance mm (negative inside)). The boxes hold only the part of the capsule within its radius of ``z``
    (one vectorised step for all capsules: per-capsule boxes were ~40 % of the bowel's time).
    With ``lobes``, the outline is lobulated (3-5 lobes of LOBE_FRACTION of the radius, their
    number and phase fixed by the capsule's own coordinates, so the CT and the MR agree)."""
    zlo = np.minimum(caps[:, 2], caps[:, 5]) - caps[:, 6]
    zhi = np.maximum(caps[:, 2], caps[:, 5]) + caps[:, 6]
    rows = np.nonzero((z >= zlo) & (z <= zhi))[0]
    if rows.size == 0:
        return
    c = caps[rows]
    dz = c[:, 5] - c[:, 2]
    safe = np.where(np.abs(dz) < 1e-9, 1.0, dz)
    ta = np.clip((z - c[:, 6] - c[:, 2]) / safe, 0.0, 1.0)
    tb = np.clip((z + c[:, 6] - c[:, 2]) / safe, 0.0, 1.0)
    flat = np.abs(dz) < 1e-9
    t0, t1 = np.where(flat, 0.0, np.minimum(ta, tb)), np.where(flat, 1.0, np.maximum(ta, tb))
    xa, xb = c[:, 0] + t0 * (c[:, 3] - c[:, 0]), c[:, 0] + t1 * (c[:, 3] - c[:, 0])
    ya, yb = c[:, 1] + t0 * (c[:, 4] - c[:, 1]), c[:, 1] + t1 * (c[:, 4] - c[:, 1])
    pad = c[:, 6] * (1.0 + LOBE_FRACTION) + 1.0
    lo = np.stack([np.minimum(xa, xb) - pad, np.minimum(ya, yb) - pad], 1)
    hi = np.stack([np.maximum(xa, xb) + pad, np.maximum(ya, yb) + pad], 1)
    boxes = _xy_boxes(grid, lo, hi)
    for row, (x0, y0, z0, x1, y1, z1, r), (a0, a1, b0, b1) in zip(rows.tolist(), c.tolist(), boxes.tolist(), strict=True):
        if a0 >= a1 or b0 >= b1:
            continue
        px, py = x[a0:a1, b0:b1], y[a0:a1, b0:b1]
        dx, dy, dz_ = x1 - x0, y1 - y0, z1 - z0
        ll = dx * dx + dy * dy + dz_ * dz_
        t = np.clip(((px - x0) * dx + (py - y0) * dy + (z - z0) * dz_) / max(ll, 1e-9), 0.0, 1.0)
        ex, ey, ez = px - x0 - t * dx, py - y0 - t * dy, z - z0 - t * dz_
        d = np.sqrt(ex * ex + ey * ey + ez * ez) - r
        if lobes:
            h = (x0 * 12.9898 + y0 * 78.233 + z0 * 37.719) % 1000.0
            n_lobes, phase = 3 + int(h) % 3, h * 0.731
            d = d + (LOBE_FRACTION * r) * np.cos(n_lobes * np.arctan2(ey, ex) + phase)
        yield row, (a0, a1, b0, b1), d.astype(np.float32)


def paint_bowel(case: CaseSpec, plane: np.ndarray, cavity: np.ndarray, grid: Grid, z: float, x: np.ndarray,
                y: np.ndarray, mottle: Callable[[tuple[int, int, int, int]], np.ndarray]) -> None:
    """Paint the bowel into one axial ``plane`` of labels (in place) where ``cavity`` (the
    abdominal cavity, already mesenteric fat) allows: vessels in the fat, then each loop over
    a rim of fat: wall (viscera label), content (fluid; chyme; a collapsed loop's mucosa =
    viscera; faeces with gas bubbles where ``mottle(box)`` (a field of SD 1 on an index box)
    > 1.1), with the gas anterior above an air-fluid level. Loops are painted in model order
    from the capsules of all loops that cross the plane (boxed in one vectorised step)."""
    model = bowel_for(case)
    for _row, box, d in _capsule_fields(model.vessels, grid, z, x, y):
        a0, a1, b0, b1 = box
        sub, cav = plane[a0:a1, b0:b1], cavity[a0:a1, b0:b1]
        sub[(d < 0) & cav & (sub == T.FAT)] = T.VESSEL
    caps, loop_of = model.all_capsules
    per_loop: dict[int, list] = {}
    for row, box, dc in _capsule_fields(caps, grid, z, x, y, lobes=True):  # all loops' capsules in one step
        per_loop.setdefault(int(loop_of[row]), []).append((box, dc))
    for i in sorted(per_loop):
        loop, fields = model.loops[i], per_loop[i]
        a0 = min(f[0][0] for f in fields)
        a1 = max(f[0][1] for f in fields)
        b0 = min(f[0][2] for f in fields)
        b1 = max(f[0][3] for f in fields)
        d = np.full((a1 - a0, b1 - b0), np.inf, dtype=np.float32)
        for (c0, c1, e0, e1), dc in fields:
            sl = (slice(c0 - a0, c1 - a0), slice(e0 - b0, e1 - b0))
            np.minimum(d[sl], dc, out=d[sl])
        sub, cav = plane[a0:a1, b0:b1], cavity[a0:a1, b0:b1]
        py = y[a0:a1, b0:b1]
        sub[cav & (d < MESENTERIC_FAT_MM)] = T.FAT
        sub[cav & (d < 0)] = T.VISCERA  # wall
        inside = cav & (d < -loop.wall_mm)
        content = {FLUID: T.BOWEL_FLUID, CHYME: T.CHYME, COLLAPSED: T.VISCERA, FAECES: T.FAECES,
                   GAS: T.CHYME}[loop.content]  # under a gas cap: semi-fluid content
        sub[inside] = content
        if loop.content == FAECES:
            sub[inside & (mottle((a0, a1, b0, b1)) > 1.1)] = T.BOWEL_GAS
        if loop.gas_fraction > 0:  # gas rises to the front: one flat air-fluid level per loop
            sub[inside & (py < loop.fluid_level_y)] = T.BOWEL_GAS
