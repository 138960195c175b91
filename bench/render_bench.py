"""Render benchmark: window/level to a display buffer, radiographs at display resolution and MPR
reslicing, each next to its peer measured in the same run (ratio = ours / peer).

    .venv/bin/python bench/render_bench.py [--repeats 30] [--mpr-only]

Prints one markdown table to paste (each row with its peer and ratio), then notes: CPU-time
ratios of the two MPR targets, the slab's first-frame cost apart from its steady frame, the
memory of the slab's reduced copy, a bright-voxel count of the slab, and the load average at the
start (head line) and the end.

Targets (issue 16): oblique 512x512 trilinear plane from 512x512x300 <= 1.0x SimpleITK Resample
in the same run; 10 mm MIP slab, oblique <= 3x one plane; radiograph 2500x2000 fitted in a cell
<= 5 ms (window/level at display resolution). Issue 4: 512x512 CT slice W/L <= 5 ms.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.dicom import sitk_bridge
from app.dicom.model import Geometry
from app.viewer import mpr, slab_reduce
from app.viewer.render import (
    LutCache,
    ReducedImageCache,
    area_decimate,
    display_step,
    render_slice,
    render_slice_naive,
)
from app.viewer.window_level import WindowLevel

# cells a 2500 x 2000 radiograph is fitted into (viewport px): the pars 2x2 layout and one
# maximised cell on a 1920 x 1080 screen; 0.94 = SliceView's fit margin
CELLS = {"2x2 cell 900x500": (900, 500), "maximised 1800x1000": (1800, 1000)}


def timeit(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    fn()  # warm-up
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1000, min(ts) * 1000


def timeit_pair(fn_a: Callable[[], object], fn_b: Callable[[], object],
                repeats: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Both timed alternately (a, b, a, b, ...): on a shared machine both see the same load, so
    their ratio is steadier than either figure."""
    fn_a(), fn_b()
    ta, tb = [], []
    for _ in range(repeats):
        for fn, ts in ((fn_a, ta), (fn_b, tb)):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
    return ((statistics.median(ta) * 1000, min(ta) * 1000), (statistics.median(tb) * 1000, min(tb) * 1000))


class Table:
    def __init__(self) -> None:
        self.lines = ["| case | median ms | best ms | peer | ratio (median / peer median) | target |",
                      "|---|---:|---:|---|---:|---|"]
        self.medians: dict[str, float] = {}

    def row(self, key: str, name: str, timing: tuple[float, float], peer: str | None = None,
            target: tuple[float, str] | None = None) -> float:
        med, best = timing
        self.medians[key] = med
        ratio = med / self.medians[peer] if peer else float("nan")
        peer_txt = f"{peer} ({self.medians[peer]:.2f} ms)" if peer else ""
        ratio_txt = f"{ratio:.2f}x" if peer else ""
        verdict = ""
        if target is not None:
            limit, kind = target
            value = ratio if kind == "x" else med
            verdict = f"<= {limit:g}{'x' if kind == 'x' else ' ms'}: " + ("**met**" if value <= limit else "NOT met")
        self.lines.append(f"| {key}: {name} | {med:.2f} | {best:.2f} | {peer_txt} | {ratio_txt} | {verdict} |")
        return med


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def _fine_line_radiograph(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """2500 x 2000 noisy background with 200 one-pixel vertical lines at random columns."""
    xr = rng.normal(1500, 60, size=(2500, 2000)).clip(0, 4095).astype(np.uint16)
    cols = np.sort(rng.choice(np.arange(10, 1990), size=200, replace=False))
    xr[:, cols] += 800
    return xr, cols


def _lines_visible(shown: np.ndarray, cols: np.ndarray, step: int) -> float:
    """Share of the lines whose rendered column stands out from its neighbours by >= 8 grey levels."""
    profile = shown.astype(np.float64).mean(axis=0)
    seen = 0
    for c in cols:
        k = int(c) // step
        lo, hi = max(k - 3, 0), min(k + 4, len(profile))
        background = np.median(np.r_[profile[lo:max(k - 1, lo)], profile[min(k + 2, hi):hi]])
        seen += profile[k] - background >= 8
    return seen / len(cols)


def radiograph_rows(table: Table, repeats: int, rng: np.random.Generator) -> list[str]:
    xr = rng.integers(0, 4096, size=(2500, 2000)).astype(np.uint16)
    wl = WindowLevel(2048, 4096)
    cache = LutCache()
    table.row("XR-full", "Radiograph 2500x2000 uint16, full-resolution LUT (before issue 16)",
              timeit(lambda: render_slice(xr, wl, lut_cache=cache), repeats))
    table.row("XR-naive", "Radiograph 2500x2000 peer: float64 np.clip", timeit(lambda: render_slice_naive(xr, wl), repeats),
              "XR-full")
    notes = []
    fine, cols = _fine_line_radiograph(rng)
    wls = [WindowLevel(2048 + d, 4096 - d) for d in range(64)]
    for label, (vw, vh) in CELLS.items():
        step = display_step(0.94 * min(vw / 2000, vh / 2500))
        table.row(f"XR-{step}", f"fitted in a {label}: box-average 1/{step} + LUT (render path, new image)",
                  timeit(lambda step=step: render_slice(area_decimate(xr, step), wl, lut_cache=cache), repeats),
                  "XR-full", (5.0, "ms"))
        reduced = ReducedImageCache()
        state = {"i": 0}

        def drag(step: int = step, reduced: ReducedImageCache = reduced, state: dict = state) -> np.ndarray:
            state["i"] = (state["i"] + 1) % len(wls)
            return render_slice(reduced.get(xr, step), wls[state["i"]], lut_cache=cache)

        table.row(f"XR-{step}d", f"fitted in a {label}: W/L drag (reduced image kept, LUT rebuilt)",
                  timeit(drag, repeats), "XR-full", (5.0, "ms"))
        table.row(f"XR-{step}s", f"fitted in a {label}: every {step}th pixel + LUT (stride, not used)",
                  timeit(lambda step=step: render_slice(np.ascontiguousarray(xr[::step, ::step]), wl, lut_cache=cache),
                         repeats), f"XR-{step}")
        fwl = WindowLevel(1900, 1600)
        boxed = _lines_visible(render_slice(area_decimate(fine, step), fwl), cols, step)
        strided = _lines_visible(render_slice(np.ascontiguousarray(fine[::step, ::step]), fwl), cols, step)
        notes.append(f"- {label} (1/{step}): one-pixel lines still visible (>= 8 grey levels over the background): "
                     f"box average {100 * boxed:.0f} %, stride {100 * strided:.0f} %")
    return notes


def cpu_pair(fn_a: Callable[[], object], fn_b: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median process CPU time (ms, all threads) of each, timed alternately."""
    fn_a(), fn_b()
    ta, tb = [], []
    for _ in range(repeats):
        for fn, ts in ((fn_a, ta), (fn_b, tb)):
            t = time.process_time()
            fn()
            ts.append(time.process_time() - t)
    return statistics.median(ta) * 1000, statistics.median(tb) * 1000


def slab_rows(table: Table, vol: np.ndarray, g: Geometry, plane: mpr.PlaneSpec, n: int, pairs: int,
              one_plane: Callable[[], np.ndarray], slab: Callable[[], np.ndarray]) -> list[str]:
    """The 10 mm oblique MIP: steady frames against one plane, the first frame (building the
    max-reduced copy) apart, and the voxel-step slab it replaces."""
    notes = []
    layout = mpr._copy_layout(g, plane)
    found = mpr.reduced_slab_planes(g, plane, 10.0)
    assert found is not None
    planes, step, _reach, axis, factor = found
    plane_t, slab_t = timeit_pair(one_plane, slab, pairs)
    table.row("OBL'", "the same oblique plane, timed alternately with the slab", plane_t)
    table.row("SLAB", f"10 mm MIP slab, oblique, steady frame: {planes} planes {step:.2f} mm apart from the max-reduced "
              f"copy (1/{factor} along the axis nearest the normal) + max (render path)", slab_t, "OBL'",
              (3.0, "x"))
    table.row("SLAB-AVG", "10 mm average slab, oblique (voxel-step planes from the volume: a mean needs every plane)",
              timeit(lambda: mpr.reslice(vol, g, plane, 1, -1024, 10.0, "mean", backend="sitk"), n), "OBL'")
    plane_cpu, slab_cpu = cpu_pair(one_plane, slab, pairs)
    notes.append(f"- CPU time per frame (all threads, median of {pairs}): MIP slab {slab_cpu:.2f} ms, one plane "
                 f"{plane_cpu:.2f} ms = {slab_cpu / plane_cpu:.2f}x")
    firsts, builds, autos = [], [], []
    for _ in range(3):
        slab_reduce.drop(vol)
        gc.collect()
        rss0 = _rss_mb()
        t = time.perf_counter()
        slab()  # "sitk" waits for the copy: build + one frame
        firsts.append((time.perf_counter() - t) * 1000)
        rss_copy = _rss_mb() - rss0
        slab_reduce.drop(vol)
        t = time.perf_counter()
        slab_reduce.reduced_for(vol, g, axis, layout, factor, wait=True)
        builds.append((time.perf_counter() - t) * 1000)
        slab_reduce.drop(vol)
        t = time.perf_counter()
        mpr.reslice(vol, g, plane, 1, -1024, 10.0, "mip", backend="auto")  # starts the copy, shows the voxel-step slab
        autos.append((time.perf_counter() - t) * 1000)
        slab_reduce.reduced_for(vol, g, axis, layout, factor, wait=True)
    table.row("SLAB-1st", "10 mm MIP slab, oblique, first frame on a volume: build the max-reduced copy, then the frame",
              (statistics.median(firsts), min(firsts)), "OBL'")
    table.row("SLAB-copy", "  of which: building the max-reduced copy (background thread in the viewer)",
              (statistics.median(builds), min(builds)), "OBL'")
    table.row("SLAB-auto", "  first frame in the viewer (\"auto\"): copy started in the background, this frame samples "
              "15 planes of the volume", (statistics.median(autos), min(autos)), "OBL'")
    reduced_mb = slab_reduce.cached_bytes() / 2**20
    notes.append(f"- Max-reduced copy for the slab: {reduced_mb:.0f} MB held (1/{factor} of the "
                 f"{vol.nbytes / 2**20:.0f} MB volume; RSS +{rss_copy:.0f} MB at the last first frame); at most "
                 f"{slab_reduce.MAX_COPIES_PER_VOLUME} copies (axis, layout, factor) per volume, dropped when the volume's "
                 "array is freed")
    factor = slab_reduce.FACTOR
    try:
        slab_reduce.FACTOR = 1  # no copy: the voxel-step slab this replaces
        full_t = timeit(slab, n)
        table.row("SLAB-15", "10 mm MIP slab, oblique, voxel-step planes (15 planes from the volume; before)", full_t, "OBL'")
        shown_full = _bright_voxels_shown(plane)
    finally:
        slab_reduce.FACTOR = factor
    shown = _bright_voxels_shown(plane)
    notes.append(f"- Single bright voxels at random places within 7 mm of the 10 mm oblique slab's centre (same spacing and "
                 f"plane orientation, 96x96x64 volume): inside the slab the MIP shows {shown[0]}/{shown[1]} from the reduced "
                 f"copy vs {shown_full[0]}/{shown_full[1]} from the voxel-step planes; farthest from where it projects "
                 f"{shown[2]:.2f} vs {shown_full[2]:.2f} pixels; voxels 5-6 mm from the centre shown {100 * shown[3]:.0f} % vs "
                 f"{100 * shown_full[3]:.0f} %")
    return notes


def _bright_voxels_shown(big_plane: mpr.PlaneSpec, count: int = 300) -> tuple[int, int, float, float]:
    """Single bright voxels at random places within 7 mm of a 10 mm oblique MIP slab's centre:
    (shown at full value inside the slab, voxels inside, largest distance in pixels from a shown
    voxel's projection to the nearest pixel showing it, share shown of those 5-6 mm from the centre)."""
    g = Geometry(np.zeros(3), np.array([0.7, 0.7, 1.0]), np.eye(3), (96, 96, 64))
    right, down = big_plane.right_lps, big_plane.down_lps
    plane = mpr.PlaneSpec(mpr.volume_center_lps(g) - 39.5 * 0.7 * (right + down), right, down, (0.7, 0.7), (80, 80))
    rng = np.random.default_rng(7)
    shown = inside = near = near_shown = 0
    worst = 0.0
    for _ in range(count):
        point = plane.pixel_to_lps(*rng.uniform(8, 72, 2)) + rng.uniform(-7, 7) * plane.normal_lps
        ijk = np.rint(g.lps_to_ijk(point)).astype(int)
        col, row, dist = plane.lps_to_pixel(g.ijk_to_lps(ijk.astype(float)))
        a = np.zeros((64, 96, 96), np.int16)
        a[ijk[2], ijk[1], ijk[0]] = 1000
        mip = mpr.reslice(a, g, plane, 1, slab_mm=10.0, backend="sitk")
        slab_reduce.drop(a)
        if abs(dist) <= 5:
            inside += 1
            if mip.max() == 1000:
                shown += 1
                r, c = np.nonzero(mip == 1000)
                worst = max(worst, float(np.min(np.hypot(r - row, c - col))))
        elif abs(dist) <= 6:
            near += 1
            near_shown += int(mip.max() == 1000)
    return shown, inside, worst, near_shown / max(near, 1)


def mpr_rows(table: Table, repeats: int, rng: np.random.Generator) -> list[str]:
    notes = []
    g = Geometry(np.array([-179.0, -179.0, 0.0]), np.array([0.7, 0.7, 1.0]), np.eye(3), (512, 512, 300))
    vol = rng.integers(-1024, 2000, size=(300, 512, 512)).astype(np.int16)
    rot = mpr.rotation_matrix((0, 0, 1), 25) @ mpr.rotation_matrix((1, 0, 0), 15)
    right, down = rot @ np.array([0, 1.0, 0]), rot @ np.array([0, 0, -1.0])
    c = mpr.volume_center_lps(g)
    plane = mpr.PlaneSpec(c - 255.5 * 0.7 * right - 255.5 * 0.7 * down, right, down, (0.7, 0.7), (512, 512))
    n = max(5, repeats // 3)
    wl = WindowLevel(500, 2000)
    have_sitk = sitk_bridge.simpleitk_available(wait=True)
    if have_sitk:
        import SimpleITK as sitk

        rss0 = _rss_mb()
        t0 = time.perf_counter()
        sitk_bridge.image_for(vol, g, wait=True)
        copy_ms = (time.perf_counter() - t0) * 1000
        notes.append(f"- SimpleITK copy of the 150 MB volume, once per volume on the warm-up thread: {copy_ms:.0f} ms, "
                     f"RSS +{_rss_mb() - rss0:.0f} MB (SimpleITK {sitk.Version.VersionString()} has no zero-copy "
                     "GetImageViewFromArray; volumes above "
                     f"{sitk_bridge.MAX_CACHED_BYTES // 2**20} MiB stay on the numpy path)")
        # the peer resamples the same SimpleITK image as the render path: a second copy of the
        # volume lands elsewhere in memory, which alone moved a resample by +-15 % CPU time between
        # copies in one run (2026-11-29), more than the difference being measured
        img = sitk_bridge.image_for(vol, g, wait=True)
        ref = sitk.Image(512, 512, 1, sitk.sitkInt16)
        ref.SetOrigin(tuple(plane.origin_lps))
        ref.SetSpacing((0.7, 0.7, 1.0))
        ref.SetDirection(tuple(np.stack([plane.right_lps, plane.down_lps, plane.normal_lps], axis=1).ravel()))

        def peer() -> np.ndarray:
            return sitk.GetArrayFromImage(sitk.Resample(img, ref, sitk.Transform(), sitk.sitkLinear, -1024.0, sitk.sitkFloat32))

        def ours() -> np.ndarray:
            return mpr.reslice(vol, g, plane, 1, -1024, backend="sitk")

        def slab() -> np.ndarray:
            return mpr.reslice(vol, g, plane, 1, -1024, 10.0, "mip", backend="sitk")

        threads = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
        pairs = max(10, repeats)  # the two targets: more samples (alternating pairs)
        peer_t, ours_t = timeit_pair(peer, ours, pairs)
        table.row("SITK", f"peer: bare SimpleITK Resample, linear, prebuilt reference image, {threads} threads", peer_t)
        table.row("OBL", "Oblique MPR 512x512 from 512x512x300, trilinear (render path: SimpleITK)",
                  ours_t, "SITK", (1.0, "x"))
        peer_cpu, ours_cpu = cpu_pair(peer, ours, pairs)
        notes.append(f"- CPU time per frame (all threads, median of {pairs}): oblique plane {ours_cpu:.2f} ms, bare SimpleITK "
                     f"Resample {peer_cpu:.2f} ms = {ours_cpu / peer_cpu:.2f}x")
        table.row("OBL-W", "Oblique MPR trilinear + window to uint8",
                  timeit(lambda: render_slice(ours(), wl), n), "SITK")
        table.row("OBL-0", "Oblique MPR nearest (render path)",
                  timeit(lambda: mpr.reslice(vol, g, plane, 0, -1024, backend="sitk"), n), "SITK")
        notes += slab_rows(table, vol, g, plane, n, pairs, ours, slab)
    else:
        notes.append("- SimpleITK not installed: the render path is the numpy fallback; no peer")
    peer_key = "SITK" if have_sitk else None
    table.row("OBL-np", "Oblique MPR trilinear, numpy fallback (bundle without SimpleITK)",
              timeit(lambda: mpr.reslice(vol, g, plane, 1, -1024, backend="numpy"), n), peer_key)
    table.row("OBL-np0", "Oblique MPR nearest, numpy fallback",
              timeit(lambda: mpr.reslice(vol, g, plane, 0, -1024, backend="numpy"), n), peer_key)
    table.row("SLAB-np", "10 mm MIP slab, oblique, numpy fallback (planes from the reduced copy, nearest)",
              timeit(lambda: mpr.reslice(vol, g, plane, 1, -1024, 10.0, "mip", backend="numpy"), 3), "OBL-np")
    sag = mpr.plane_stack(g, *mpr.screen_axes("sagittal"))
    table.row("SAG", "Sagittal reformat 300x512 (grid-aligned: array slicing, no resampler)",
              timeit(lambda: mpr.reslice(vol, g, sag.plane(200)), repeats), peer_key)
    table.row("SAG-SLAB", "10 mm MIP slab, sagittal (grid-aligned planes)",
              timeit(lambda: mpr.reslice(vol, g, sag.plane(200), slab_mm=10.0), repeats), "SAG")
    return notes


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--mpr-only", action="store_true", help="only the MPR rows (issue 16's oblique plane and slab)")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    started = time.perf_counter()
    table = Table()

    ct = rng.integers(-1024, 2500, size=(512, 512)).astype(np.int16)
    cache = LutCache()
    wls = [WindowLevel(500 + d, 2000 + d) for d in range(0, 64)]
    state = {"i": 0}

    def ct_drag() -> np.ndarray:  # a new window every frame (dragging): rebuilds the LUT each time
        state["i"] = (state["i"] + 1) % len(wls)
        return render_slice(ct, wls[state["i"]], lut_cache=cache)

    notes = []
    if not args.mpr_only:
        table.row("CT-np", "CT 512x512 peer: float64 np.clip", timeit(lambda: render_slice_naive(ct, wls[0]), args.repeats))
        table.row("CT", "CT 512x512 int16, fixed window (scrolling): LUT",
                  timeit(lambda: render_slice(ct, wls[0], lut_cache=cache), args.repeats), "CT-np", (5.0, "ms"))
        table.row("CT-drag", "CT 512x512, new window every frame (W/L drag): LUT rebuilt", timeit(ct_drag, args.repeats),
                  "CT-np", (5.0, "ms"))
        notes += radiograph_rows(table, args.repeats, rng)
    notes += mpr_rows(table, args.repeats, rng)
    end_load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    notes.append(f"- Load average at the end: {end_load[0]:.2f} {end_load[1]:.2f} {end_load[2]:.2f}")
    head = (f"Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start, "
            f"Python {platform.python_version()}, numpy {np.__version__}; "
            f"`{' '.join(['bench/render_bench.py', *sys.argv[1:]])}`, "
            f"{time.perf_counter() - started:.0f} s.")
    print(head)
    print()
    print("\n".join(table.lines))
    print()
    print("\n".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
