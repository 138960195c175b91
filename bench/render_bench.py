"""Render benchmark: window/level to a display buffer and MPR reslicing, each against a naive
peer measured in the same run. Prints ms per frame and frames per second.

    .venv/bin/python bench/render_bench.py [--repeats 30]

Targets (issue 4): 512x512 CT slice W/L + display <= 5 ms; 2500x2000 radiograph <= 25 ms;
oblique 512x512 MPR plane from a 512x512x300 volume <= 40 ms.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.dicom.model import Geometry  # noqa: E402
from app.viewer import mpr  # noqa: E402
from app.viewer.render import LutCache, render_slice, render_slice_naive  # noqa: E402
from app.viewer.window_level import WindowLevel  # noqa: E402


def timeit(fn, repeats: int) -> tuple[float, float]:
    fn()  # warm-up
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1000, min(ts) * 1000


def row(name: str, med: float, best: float, target: float | None = None) -> str:
    fps = 1000.0 / med if med > 0 else float("inf")
    t = "" if target is None else (f"<= {target:g}: **met**" if med <= target else f"<= {target:g}: NOT met")
    return f"| {name} | {med:.2f} | {best:.2f} | {fps:.0f} | {t} |"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    lines = ["| case | median ms/frame | best ms | frames/s (median) | target |", "|---|---:|---:|---:|---|"]

    ct = rng.integers(-1024, 2500, size=(512, 512)).astype(np.int16)
    cache = LutCache()
    wls = [WindowLevel(500 + d, 2000 + d) for d in range(0, 64)]
    state = {"i": 0}

    def ct_drag():  # a new window every frame (dragging): rebuilds the LUT each time
        state["i"] = (state["i"] + 1) % len(wls)
        return render_slice(ct, wls[state["i"]], lut_cache=cache)
    lines.append(row("CT 512x512 int16, fixed window (scrolling): LUT", *timeit(lambda: render_slice(ct, wls[0], lut_cache=cache), args.repeats), 5))
    lines.append(row("CT 512x512 int16, new window every frame (W/L drag): LUT rebuilt", *timeit(ct_drag, args.repeats), 5))
    lines.append(row("CT 512x512 peer: float64 np.clip", *timeit(lambda: render_slice_naive(ct, wls[0]), args.repeats)))

    xr = rng.integers(0, 4096, size=(2500, 2000)).astype(np.uint16)
    xcache = LutCache()
    lines.append(row("Radiograph 2500x2000 uint16: LUT", *timeit(lambda: render_slice(xr, WindowLevel(2048, 4096), lut_cache=xcache), args.repeats), 25))
    lines.append(row("Radiograph 2500x2000, MONOCHROME1 inverted: LUT", *timeit(lambda: render_slice(xr, WindowLevel(2048, 4096), True, lut_cache=xcache), args.repeats), 25))
    lines.append(row("Radiograph 2500x2000 peer: float64 np.clip", *timeit(lambda: render_slice_naive(xr, WindowLevel(2048, 4096)), args.repeats)))

    g = Geometry(np.array([-179.0, -179.0, 0.0]), np.array([0.7, 0.7, 1.0]), np.eye(3), (512, 512, 300))
    vol = rng.integers(-1024, 2000, size=(300, 512, 512)).astype(np.int16)
    rot = mpr.rotation_matrix((0, 0, 1), 25) @ mpr.rotation_matrix((1, 0, 0), 15)
    right, down = rot @ np.array([0, 1.0, 0]), rot @ np.array([0, 0, -1.0])
    c = mpr.volume_center_lps(g)
    plane = mpr.PlaneSpec(c - 255.5 * 0.7 * right - 255.5 * 0.7 * down, right, down, (0.7, 0.7), (512, 512))
    lines.append(row("Oblique MPR 512x512 from 512x512x300: trilinear (numpy)", *timeit(lambda: mpr.reslice(vol, g, plane, 1, -1024), max(5, args.repeats // 3)), 40))
    lines.append(row("Oblique MPR: trilinear + window to uint8", *timeit(lambda: render_slice(mpr.reslice(vol, g, plane, 1, -1024), wls[0]), max(5, args.repeats // 3)), 40))
    lines.append(row("Oblique MPR: nearest (numpy)", *timeit(lambda: mpr.reslice(vol, g, plane, 0, -1024), max(5, args.repeats // 3))))
    lines.append(row("Oblique MPR: 10 mm MIP slab (trilinear)", *timeit(lambda: mpr.reslice(vol, g, plane, 1, -1024, 10.0, "mip"), 3)))
    sag = mpr.plane_stack(g, *mpr.screen_axes("sagittal"))
    lines.append(row("Sagittal reformat 300x512 (grid-aligned fast path)", *timeit(lambda: mpr.reslice(vol, g, sag.plane(200)), args.repeats)))
    try:
        import SimpleITK as sitk

        img = sitk.GetImageFromArray(vol)
        img.SetOrigin(tuple(g.origin_lps))
        img.SetSpacing(tuple(g.spacing_mm))
        img.SetDirection(tuple(g.direction.ravel()))
        ref = sitk.Image(512, 512, 1, sitk.sitkInt16)
        ref.SetOrigin(tuple(plane.origin_lps))
        ref.SetSpacing((0.7, 0.7, 1.0))
        ref.SetDirection(tuple(np.stack([plane.right_lps, plane.down_lps, plane.normal_lps], axis=1).ravel()))
        res = lambda: sitk.GetArrayViewFromImage(  # noqa: E731
            sitk.Resample(img, ref, sitk.Transform(), sitk.sitkLinear, -1024.0, sitk.sitkFloat32))
        lines.append(row(f"Oblique MPR peer: SimpleITK {sitk.Version.VersionString()} Resample (linear, {sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()} threads)",
                         *timeit(res, max(5, args.repeats // 3))))
    except ImportError:
        lines.append("| SimpleITK peer | not installed | | | |")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    head = (f"Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} cores (load average {load:.1f} at the start), Python {platform.python_version()}, numpy {np.__version__}.")
    print(head)
    print()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
