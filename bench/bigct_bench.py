"""Big-study benchmark (run by hand: `.venv/bin/python bench/bigct_bench.py`). Not a timed test.

1. A synthetic whole-spine thin-slice CT: 1,500 x 512x512 slices (uint16, 12 bits stored,
   intercept -1024, so an int16 volume of 750 MB), 0.6 mm apart, written on demand under
   bench/_data/ (git-ignored; --data elsewhere) the first time. Loaded in a child process through
   app/viewer/loading.py (the functions the GUI's worker threads run: scan, then load_series + the
   whole-volume numbers), after a 20-slice series went through the same steps (so imports and
   code caches are in the baseline), with progress counted as the progress bar would receive it.
   Figures: load time, peak RSS over the baseline against the volume's size (target <= 1.15x),
   scrolling 200 axial and 20 sagittal planes through the viewer's display, RSS after closing
   (every reference dropped, gc) and after the next study is opened as the GUI does (target back
   within 10 % of before). The peer in the same run is the raw read floor: the same pixel bytes
   read into one preallocated array.
2. The GUI (offscreen MainWindow driven by a real event loop; --no-gui skips it): the six sample
   cases each opened and closed (File > Close study) one after another, three rounds, with RSS
   after each open and each close (round 1 pays first-use costs; a leak grows every round); then
   the big CT opened in the window, closed (RSS against the case closed before it), and replaced by case 01
   and case 06 (RSS against before the big CT: does closing a study return its memory?).

RSS is read from /proc/self/status (VmRSS, and VmHWM reset through /proc/self/clear_refs before
each phase). Each part runs in its own process. Run it twice on a loaded machine.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
DEFAULT_DATA = ROOT / "_data" / "bigct1500"
SIZE = 512
STEP_MM = 0.6
GUI_ROUNDS = 3  # default of --rounds; round 1 includes first-use costs (fonts, panels, caches); a leak grows every round
CASES = sorted(p for p in (REPO / "sample_dicom").glob("case0*") if p.is_dir())

sys.path.insert(0, str(REPO))


# ----------------------------------------------------------------------------- data


def write_bigct(folder: Path, n: int) -> None:
    """``n`` slices written once: one template dataset, pixels and position changed per slice."""
    if (folder / ".complete").exists() and (folder / ".complete").read_text() == str(n):
        return
    from pydicom.uid import generate_uid
    from synthetic_ct import write_ct_slice

    print(f"writing {n} CT slices of {SIZE}x{SIZE} to {folder} (once) ...", flush=True)
    folder.mkdir(parents=True, exist_ok=True)
    study, series = generate_uid(), generate_uid()
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    body = ((xx - SIZE / 2) ** 2 + ((yy - SIZE / 2) * 1.3) ** 2) < (0.42 * SIZE) ** 2
    spine = ((xx - SIZE / 2) ** 2 + (yy - SIZE * 0.68) ** 2) < (0.06 * SIZE) ** 2
    for k in range(n):
        img = np.where(spine, 1024 + 700 + (k % 40) * 5, np.where(body, 1024 + 40, 24)).astype(np.uint16)
        write_ct_slice(folder / f"IM{k:05d}.dcm", img, study_uid=study, series_uid=series, instance_number=k + 1,
                       z_mm=-k * STEP_MM, thickness_mm=STEP_MM, description="WHOLE SPINE 0.6 BONE",
                       patient=("BIGCT", "Bench^WholeSpine"), bits_stored=12)
    (folder / ".complete").write_text(str(n))


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def warm(folder: Path) -> None:
    for p in _files(folder):
        with open(p, "rb") as f:
            while f.read(1 << 22):
                pass


# ----------------------------------------------------------------------------- memory


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def rss_mb() -> float:
    return _status_mb("VmRSS")


def reset_peak() -> None:
    """Start a new VmHWM measurement (Linux: writing 5 to clear_refs resets the peak RSS)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_mb() -> float:
    return _status_mb("VmHWM")


def settled_rss_mb() -> float:
    gc.collect()
    return rss_mb()


# ----------------------------------------------------------------------------- children


def run_raw(folder: Path) -> dict:
    """The floor: the pixel bytes of every file read into one preallocated volume."""
    files = _files(folder)
    gc.collect()
    base = rss_mb()
    reset_peak()
    t = time.perf_counter()
    vol = np.empty((len(files), SIZE, SIZE), dtype=np.int16)
    n_bytes = SIZE * SIZE * 2
    for k, p in enumerate(files):
        with open(p, "rb", buffering=0) as f:
            f.seek(-n_bytes, os.SEEK_END)
            f.readinto(memoryview(vol[k]).cast("B"))
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "base_mb": base, "peak_mb": peak_mb(), "volume_mb": vol.nbytes / 2**20}


def _load_scroll_close(folder: Path, progress) -> dict:
    """scan + load through app/viewer/loading.py, scroll through the viewer's display, close."""
    from app.viewer import loading
    from app.viewer.display import VolumeDisplay

    base = settled_rss_mb()
    reset_peak()
    t = time.perf_counter()
    result = loading.scan([str(folder)])
    t_scan = time.perf_counter() - t
    entry = result.all_series()[0]
    vol, prep = loading.load(entry, progress)
    t_load = time.perf_counter() - t
    load_peak = peak_mb()
    after_load = rss_mb()
    volume_mb = vol.array.nbytes / 2**20
    shape, dtype = vol.array.shape, str(vol.array.dtype)

    reset_peak()
    t = time.perf_counter()
    display = VolumeDisplay(vol, "axial", prep)
    n = display.n_slices
    for i in range(0, n, max(1, n // 200)):
        display.set_index(i)
        display.frame()
    display.set_orientation("sagittal")
    for i in range(0, display.n_slices, max(1, display.n_slices // 20)):
        display.set_index(i)
        display.frame()
    t_scroll = time.perf_counter() - t
    scroll_peak = peak_mb()
    after_scroll = settled_rss_mb()
    oblique = _oblique_vs_simpleitk(vol)

    del display, vol, prep, entry, result
    after_close = settled_rss_mb()
    loading.scan([str(folder.with_name(folder.name + "-warmup"))])  # the next study opened, as in the GUI
    after_next = settled_rss_mb()
    return {
        "scan_s": t_scan, "load_s": t_load, "scroll_s": t_scroll, "shape": shape, "dtype": dtype,
        "volume_mb": volume_mb, "base_mb": base, "load_peak_mb": load_peak, "after_load_mb": after_load,
        "scroll_peak_mb": scroll_peak, "after_scroll_mb": after_scroll, "after_close_mb": after_close,
        "after_next_open_mb": after_next, **oblique,
    }


def _oblique_vs_simpleitk(vol) -> dict:
    """A 512x512 oblique trilinear plane through the volume by the viewer's render path
    (app.viewer.mpr.reslice, backend "auto") against a bare SimpleITK Resample of the same
    SimpleITK image, timed alternately (median of 30). The render path may use SimpleITK only
    when the voxels were read into a SimpleITK image (no room for a copy of 750 MB)."""
    from render_bench import timeit_pair

    from app.dicom import sitk_bridge
    from app.viewer import mpr

    g = vol.geometry
    rot = mpr.rotation_matrix((0, 0, 1), 25) @ mpr.rotation_matrix((1, 0, 0), 15)
    right, down = rot @ np.array([0, 1.0, 0]), rot @ np.array([0, 0, -1.0])
    c = mpr.volume_center_lps(g)
    plane = mpr.PlaneSpec(c - 255.5 * 0.7 * right - 255.5 * 0.7 * down, right, down, (0.7, 0.7), (512, 512))

    def ours() -> object:
        return mpr.reslice(vol.array, g, plane, 1, -1024)

    ours()
    img = sitk_bridge.image_for(vol.array, g)
    if img is None:  # the render path is numpy: the peer needs its own copy (measured after)
        img = sitk_bridge.image_from_array(vol.array, g)
    import SimpleITK as sitk

    ref = sitk.Image(512, 512, 1, sitk.sitkInt16)
    ref.SetOrigin(tuple(plane.origin_lps))
    ref.SetSpacing((0.7, 0.7, 1.0))
    ref.SetDirection(tuple(np.stack([plane.right_lps, plane.down_lps, plane.normal_lps], axis=1).ravel()))

    def peer() -> object:
        return sitk.GetArrayFromImage(sitk.Resample(img, ref, sitk.Transform(), sitk.sitkLinear, -1024.0, sitk.sitkFloat32))

    (peer_ms, _), (ours_ms, _) = timeit_pair(peer, ours, 30)

    def slab() -> object:
        return mpr.reslice(vol.array, g, plane, 1, -1024, 10.0, "mip")

    from app.viewer import slab_reduce

    rss_before_slab = rss_mb()
    slab()  # starts the max-reduced copy on its thread; the steady frames come from it
    end = time.monotonic() + 30.0
    while slab_reduce.cached_bytes() == 0 and slab_reduce.copy_count(vol.array) and time.monotonic() < end:
        time.sleep(0.05)
    slab_copy_mb = slab_reduce.cached_bytes() / 2**20
    (plane_ms, _), (slab_ms, _) = timeit_pair(ours, slab, 30)
    return {"slab_ms": slab_ms, "slab_plane_ms": plane_ms, "slab_copy_mb": slab_copy_mb,
            "slab_rss_mb": rss_mb() - rss_before_slab,
            "oblique_ms": ours_ms, "oblique_peer_ms": peer_ms,
            "oblique_backend": "SimpleITK (voxels read into its image)"
            if sitk_bridge.image_for(vol.array, g) is not None else "numpy"}


def run_load(folder: Path) -> dict:
    """The big CT loaded, scrolled and closed after one small series went through the same steps
    (so what stays afterwards is the code's imports and caches, not a study's data)."""
    from app.viewer import loading

    loading.prewarm()  # the GUI imports the DICOM stack while the window is idle
    _load_scroll_close(folder.with_name(folder.name + "-warmup"), None)
    calls: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))

    out = _load_scroll_close(folder, progress)
    out.update({"progress_calls": len(calls), "progress_last": list(calls[-1]) if calls else None,
                "progress_monotonic": all(a[0] <= b[0] for a, b in itertools.pairwise(calls))})
    return out


def run_gui(folder: Path) -> dict:
    """Six sample cases opened one after another in an offscreen MainWindow, twice; then the big
    CT, replaced by case 01."""
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("ISTHMUS_DATA_DIR", tempfile.mkdtemp(prefix="isthmus-bigct-"))
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    win = MainWindow()
    win.show()

    def wait(cond, timeout_s: float) -> bool:
        """Run the event loop (a real one: deleteLater is carried out) until ``cond()``."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            loop = QEventLoop()
            QTimer.singleShot(10, loop.quit)
            loop.exec()
            if cond():
                return True
        return False

    def loaded() -> bool:
        if win.presenter.study is None or win.controller.busy:
            return False
        return all(v.display is not None and v.display.kind != "preview"
                   for v in win.grid.views() if v.cell is not None and v.cell.series_key)

    def open_and_wait(path: Path, timeout_s: float = 120.0) -> tuple[float, float]:
        t = time.perf_counter()
        win.open_paths([str(path)])
        app.processEvents()
        ok = wait(lambda: win.controller.paths == [str(path)] and loaded(), timeout_s)
        seconds = time.perf_counter() - t
        wait(lambda: False, 0.3)  # let the last repaints and deferred deletes run
        return (seconds if ok else float("nan")), settled_rss_mb()

    wait(lambda: win.controller.warm, 60.0)
    # SimpleITK (about 95 MB of library in the RSS) is imported by the first oblique plane or, for
    # a volume above 512 MiB, by its load (app.dicom.sitk_bridge.volume_buffer): once per process,
    # not a study's memory. Imported here first, as in a workstation that has shown one oblique
    # plane, so "replaced by ... vs before" compares studies (without it: 1.20x, 2026-11-29).
    from app.dicom import sitk_bridge

    sitk_bridge.simpleitk_available(wait=True)
    wait(lambda: False, 0.5)
    base = settled_rss_mb()
    def close_and_settle() -> float:
        """File > Close study, then the RSS once the deferred deletes have run."""
        win.close_study()
        wait(lambda: False, 0.3)
        return settled_rss_mb()

    rounds, closed = [], []
    for _ in range(_gui_rounds[0]):
        opened, shut = [], []
        for case in CASES:
            opened.append(open_and_wait(case)[1])
            shut.append(close_and_settle())
        rounds.append(opened)
        closed.append(shut)
    before_big = open_and_wait(CASES[-1])[1]
    before_big_closed = close_and_settle()
    reset_peak()
    big_s, big_rss = open_and_wait(folder, 300.0)
    big_peak = peak_mb()
    big_closed = close_and_settle()
    _s, after_big_closed = open_and_wait(CASES[0])
    _s, after_big_closed_2 = open_and_wait(CASES[-1])
    win.close()
    app.processEvents()
    return {"base_mb": base, "cases": [c.name for c in CASES], "rounds_mb": rounds, "closed_mb": closed,
            "before_big_closed_mb": before_big_closed, "big_closed_mb": big_closed,
            "before_big_mb": before_big, "big_open_s": big_s, "big_rss_mb": big_rss, "big_peak_mb": big_peak,
            "after_big_replaced_mb": after_big_closed, "after_big_replaced_last_case_mb": after_big_closed_2}


_gui_rounds = [GUI_ROUNDS]

RUNS = {"raw": run_raw, "load": run_load, "gui": run_gui}


def child(mode: str, folder: Path, timeout_s: float = 600.0) -> dict:
    out = subprocess.run([sys.executable, __file__, "--run", mode, "--data", str(folder),
                          "--rounds", str(_gui_rounds[0])],
                         capture_output=True, text=True, cwd=REPO, timeout=timeout_s)
    if out.returncode != 0:
        tail = (out.stderr or out.stdout).strip().splitlines()[-3:]
        return {"error": " | ".join(tail) or f"exit code {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- report


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def report(n: int, raws: list[dict], loads: list[dict], gui: dict | None) -> None:
    ok_raw = [r for r in raws if "error" not in r]
    ok_load = [r for r in loads if "error" not in r]
    for r in raws + loads:
        if "error" in r:
            print(f"ERROR in a child: {r['error']}")
    if not ok_raw or not ok_load:
        return
    raw = min(ok_raw, key=lambda r: r["seconds"])
    best = min(ok_load, key=lambda r: r["load_s"])
    vol_mb = best["volume_mb"]
    print(f"\n{n} x {SIZE}x{SIZE} CT, {STEP_MM} mm: volume {best['shape']} {best['dtype']} = {vol_mb:.0f} MB")
    print(f"{'figure':46s} {'isthmus':>10s} {'peer':>10s} {'ratio':>7s}  target")
    print(f"{'scan + load, s (best of ' + str(len(ok_load)) + '; peer: raw read floor)':46s} "
          f"{best['load_s']:10.2f} {raw['seconds']:10.2f} {_ratio(best['load_s'], raw['seconds']):>7s}  -")
    print(f"{'  of which scan, s':46s} {best['scan_s']:10.2f}")
    for r in ok_load:
        grow = r["load_peak_mb"] - r["base_mb"]
        print(f"{'peak RSS over baseline, MB (peer: the volume)':46s} {grow:10.0f} {vol_mb:10.0f} "
              f"{_ratio(grow, vol_mb):>7s}  <= 1.15x")
        print(f"{'  absolute peak RSS, MB (baseline ' + format(r['base_mb'], '.0f') + ' MB)':46s} "
              f"{r['load_peak_mb']:10.0f} {vol_mb + r['base_mb']:10.0f} "
              f"{_ratio(r['load_peak_mb'], vol_mb + r['base_mb']):>7s}  -")
        print(f"{'  raw floor peak RSS over its baseline, MB':46s} {raw['peak_mb'] - raw['base_mb']:10.0f} "
              f"{vol_mb:10.0f} {_ratio(raw['peak_mb'] - raw['base_mb'], vol_mb):>7s}  -")
        print(f"{'scroll 200 axial + 20 sagittal, s / peak MB':46s} {r['scroll_s']:10.2f} {r['scroll_peak_mb']:10.0f}")
        print(f"{'oblique 512x512 plane, ms (peer: bare SimpleITK)':46s} {r['oblique_ms']:10.2f} "
              f"{r['oblique_peer_ms']:10.2f} {_ratio(r['oblique_ms'], r['oblique_peer_ms']):>7s}  <= 1.0x "
              f"(render path: {r['oblique_backend']})")
        print(f"{'10 mm oblique MIP slab, ms (peer: one plane)':46s} {r['slab_ms']:10.2f} "
              f"{r['slab_plane_ms']:10.2f} {_ratio(r['slab_ms'], r['slab_plane_ms']):>7s}  <= 3x "
              f"(max-reduced copy {r['slab_copy_mb']:.0f} MB, RSS +{r['slab_rss_mb']:.0f} MB)")
        for label, key in (("RSS after close (refs dropped, gc), MB", "after_close_mb"),
                           ("RSS after the next study opens, MB", "after_next_open_mb")):
            print(f"{label + ' (peer: before)':46s} {r[key]:10.0f} {r['base_mb']:10.0f} "
                  f"{_ratio(r[key], r['base_mb']):>7s}  <= 1.10x")
        print(f"{'progress reports during the load (last)':46s} {r['progress_calls']:10d} "
              f"{r['progress_last']!s:>10s}  monotonic {r['progress_monotonic']}")
    if gui is None:
        return
    if "error" in gui:
        print(f"\nGUI: ERROR {gui['error']}")
        return
    print(f"\nGUI (offscreen MainWindow), RSS MB after each case is open and loaded; window alone "
          f"{gui['base_mb']:.0f} MB (SimpleITK imported)")
    rounds, closed = gui["rounds_mb"], gui["closed_mb"]
    print(f"{'case (open / after File > Close study)':40s} "
          + " ".join(f"{'round ' + str(i + 1):>13s}" for i in range(len(rounds))))
    for c, name in enumerate(gui["cases"]):
        print(f"{name:40s} " + " ".join(f"{r[c]:6.0f} /{k[c]:5.0f}" for r, k in zip(rounds, closed, strict=True)))
    for i in range(1, len(rounds)):
        growth = closed[i][-1] - closed[i - 1][-1]
        print(f"growth round {i} -> {i + 1} (after closing the last case): {growth:+.0f} MB "
              f"({growth / closed[i - 1][-1] * 100:+.1f} %)"
              + ("; target no growth after the first round" if i == len(rounds) - 1 else ""))
    later = [k[-1] for k in closed[1:]]
    print(f"after closing the last case, rounds 2-{len(rounds)}: {min(later):.0f}-{max(later):.0f} MB "
          f"(spread {max(later) - min(later):.0f} MB)")
    print(f"big CT closed: {gui['big_closed_mb']:.0f} MB vs {gui['before_big_closed_mb']:.0f} MB with the case before it "
          f"closed ({_ratio(gui['big_closed_mb'], gui['before_big_closed_mb'])}; target: back within 10 %)")
    print(f"big CT in the window: opened in {gui['big_open_s']:.1f} s, RSS {gui['big_rss_mb']:.0f} MB "
          f"(peak {gui['big_peak_mb']:.0f}); replaced by {gui['cases'][0]}: {gui['after_big_replaced_mb']:.0f} MB, "
          f"then by {gui['cases'][-1]}: {gui['after_big_replaced_last_case_mb']:.0f} MB vs "
          f"{gui['before_big_mb']:.0f} MB before "
          f"({_ratio(gui['after_big_replaced_last_case_mb'], gui['before_big_mb'])}; target <= 1.10x)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", choices=sorted(RUNS), help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, default=None, help=f"folder of the synthetic CT (default {DEFAULT_DATA})")
    ap.add_argument("--slices", type=int, default=1500, help="slices of the synthetic CT (default 1500)")
    ap.add_argument("--repeats", type=int, default=2, help="load runs (default 2)")
    ap.add_argument("--no-gui", action="store_true", help="skip the offscreen GUI part")
    ap.add_argument("--rounds", type=int, default=GUI_ROUNDS,
                    help=f"rounds of the six cases in the GUI part (default {GUI_ROUNDS}; more shows a plateau)")
    args = ap.parse_args()
    _gui_rounds[0] = max(2, args.rounds)
    folder = args.data or (DEFAULT_DATA if args.slices == 1500 else DEFAULT_DATA.with_name(f"bigct{args.slices}"))
    if args.run:
        print(json.dumps(RUNS[args.run](folder)))
        return 0
    write_bigct(folder, args.slices)
    write_bigct(folder.with_name(folder.name + "-warmup"), 20)
    warm(folder)
    print(f"date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.machine()}, {os.cpu_count()} "
          f"cores, Python {platform.python_version()}; load average before: "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}; command: {' '.join(sys.argv)}")
    raws, loads = [], []
    for _ in range(max(1, args.repeats)):  # interleaved, so a busy moment hits both
        raws.append(child("raw", folder))
        loads.append(child("load", folder))
    gui = None if args.no_gui else child("gui", folder)
    report(args.slices, raws, loads, gui)
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
