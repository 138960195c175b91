"""Startup benchmark: whole-process cold start of `isthmus open`.

    .venv/bin/python bench/startup_bench.py [--repeats 5] [--case PATH] [--no-bytecode-cache]

1. `isthmus open --exit-after-show`: process start -> main window shown (target <= 1 s);
2. `isthmus open CASE --exit-after-first-image`: process start -> first image of the case on
   screen (issue 16 target <= 1.0 s median). CASE defaults to sample_dicom/case04* (else the
   first sample case, else a small synthetic study written to bench/_data/startup_case).
   The app prints when each start-up phase ended; the table gives each phase's median
   duration: interpreter + CLI, imports (Qt, numpy, the window's modules), QApplication,
   window built, scan done (pydicom imported in a thread meanwhile), first preview decoded
   and set, first paint.

The timer starts just before the child process is spawned (ISTHMUS_T0); each run uses a fresh
ISTHMUS_DATA_DIR. Bytecode: an installed Isthmus has its .pyc files (pip and PyInstaller write
them), so the children use a bytecode cache in bench/_data/pycache even where the environment
sets PYTHONDONTWRITEBYTECODE (a run without it compiles ~140 modules, ~0.3 s more on every
start); --no-bytecode-cache measures that case. The peers are `python -c "import
PySide6.QtWidgets"` with a shown QMainWindow (the floor any Qt window pays), the same plus
numpy (the floor of any image on screen) and the Isthmus window with SimpleITK and pydicom
imported eagerly.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = ROOT / ".venv" / "bin" / "python"
PY = PY if PY.exists() else Path(sys.executable)


BYTECODE_CACHE = True  # main() may turn it off (--no-bytecode-cache)
PHASES = ("interpreter", "imports", "qapplication", "window", "scan", "preview", "first_paint")


def _env(data_dir: str) -> dict:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["ISTHMUS_DATA_DIR"] = data_dir
    if BYTECODE_CACHE:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(ROOT / "bench" / "_data" / "pycache")
    env["ISTHMUS_T0"] = repr(time.time())
    return env


def run_app(args: list[str]) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as d:
        env = _env(d)
        t = time.perf_counter()
        out = subprocess.run([str(PY), "-m", "app", "open", *args], capture_output=True, text=True, env=env,
                             cwd=str(ROOT), timeout=120)
        wall = time.perf_counter() - t
    found = dict(re.findall(r"(\w+)=([\w.,]+)", out.stdout))
    found["process_wall"] = f"{wall:.3f}s"
    if not found or "timeout" in found:
        raise SystemExit(f"no timing from the app: {out.stdout}\n{out.stderr[-2000:]}")
    return found


def run_peer(code: str) -> float:
    t = time.perf_counter()
    subprocess.run([str(PY), "-c", code], check=True, capture_output=True, env=_env(tempfile.gettempdir()))
    return time.perf_counter() - t


def pick_case(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    samples = ROOT / "sample_dicom"
    cases = sorted(p for p in samples.glob("case*") if p.is_dir()) if samples.is_dir() else []
    for c in cases:
        if c.name.startswith("case04"):
            return c
    if cases:
        return cases[0]
    out = ROOT / "bench" / "_data" / "startup_case"
    if not out.exists():
        sys.path.insert(0, str(ROOT / "tests" / "ui"))
        import viewer_study  # the GUI tests' synthetic study writer

        viewer_study.write_study(out)
    return out


def secs(v: str) -> float:
    return float(v.rstrip("s"))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--case")
    ap.add_argument("--no-bytecode-cache", action="store_true")
    a = ap.parse_args()
    global BYTECODE_CACHE
    BYTECODE_CACHE = not a.no_bytecode_cache
    case = pick_case(a.case)
    run_app(["--exit-after-show"])  # warm the OS file cache (and the bytecode cache) once
    run_app([str(case), "--exit-after-first-image"])
    shown, shown_wall, heavy_show, first, first_wall = [], [], set(), [], []
    phases: dict[str, list[float]] = {p: [] for p in PHASES}
    qt_code = "import PySide6.QtWidgets as w; a = w.QApplication([]); m = w.QMainWindow(); m.show(); a.processEvents()"
    numpy_code = "import numpy; " + qt_code
    eager_code = ("import SimpleITK, pydicom; import app.ui.main_window as mw; import PySide6.QtWidgets as w; "
                  "a = w.QApplication([]); m = mw.MainWindow(); m.show(); a.processEvents()")
    qt_floor, numpy_floor, eager = [], [], []
    for _ in range(a.repeats):  # peers interleaved with the app: the same machine load for both
        r = run_app(["--exit-after-show"])
        shown.append(secs(r["window_shown"]))
        shown_wall.append(secs(r["process_wall"]))
        heavy_show.add(r.get("heavy_modules", "?"))
        qt_floor.append(run_peer(qt_code))
        r = run_app([str(case), "--exit-after-first-image"])
        first.append(secs(r["first_image"]))
        first_wall.append(secs(r["process_wall"]))
        for p in PHASES:
            if f"phase_{p}" in r:
                phases[p].append(secs(r[f"phase_{p}"]))
        numpy_floor.append(run_peer(numpy_code))
        eager.append(run_peer(eager_code))
    med = statistics.median
    load = os.getloadavg()[0]
    loads = os.getloadavg()
    print(f"Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, load average {load:.1f} "
          f"(5 min {loads[1]:.1f}), QT_QPA_PLATFORM={os.environ.get('QT_QPA_PLATFORM', 'offscreen')}, median of "
          f"{a.repeats}; case {case.name}; bytecode cache {'on' if BYTECODE_CACHE else 'OFF'}")
    print()
    print("| measure | median s | best s | ratio to the Qt floor | target |")
    print("|---|---:|---:|---:|---|")
    floor = med(qt_floor)

    def line(name, xs, target=None, ratio=True):
        if not xs:
            return
        t = "" if target is None else (f"<= {target}: **met**" if med(xs) <= target else f"<= {target}: NOT met")
        r = f"{med(xs) / floor:.1f}x" if ratio else ""
        print(f"| {name} | {med(xs):.3f} | {min(xs):.3f} | {r} | {t} |")
    line("process start -> main window shown (`isthmus open`)", shown, 1.0)
    line("  whole process incl. exit", shown_wall)
    line(f"process start -> first image of {case.name}", first, 1.0)
    for p in PHASES:
        line(f"  phase: {p.replace('_', ' ')}", phases[p], ratio=False)
    line("  whole process incl. exit", first_wall)
    line("peer: bare PySide6 QMainWindow shown (floor)", qt_floor)
    line("peer: the same with numpy imported (floor of any image)", numpy_floor)
    line("peer: Isthmus window with SimpleITK + pydicom imported eagerly", eager)
    print()
    print(f"Heavy modules loaded when the window is shown: {', '.join(sorted(heavy_show))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
