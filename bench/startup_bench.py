"""Startup benchmark: whole-process cold start of `isthmus open`.

    .venv/bin/python bench/startup_bench.py [--repeats 5] [--case PATH]

1. `isthmus open --exit-after-show`: process start -> main window shown (target <= 1 s);
2. `isthmus open CASE --exit-after-first-image`: process start -> first image of the case on
   screen (target <= 1.5 s). CASE defaults to sample_dicom/case04* (else the first sample case,
   else a small synthetic study written to bench/_data/startup_case).

The timer starts just before the child process is spawned (ISTHMUS_T0); each run uses a fresh
ISTHMUS_DATA_DIR. The peer is `python -c "import PySide6.QtWidgets"` alone (the floor any Qt
window pays) and the same start with SimpleITK and pydicom imported eagerly.
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


def _env(data_dir: str) -> dict:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["ISTHMUS_DATA_DIR"] = data_dir
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
    a = ap.parse_args()
    case = pick_case(a.case)
    run_app(["--exit-after-show"])  # warm the OS file cache once
    shown, shown_wall, heavy_show, first, first_wall = [], [], set(), [], []
    for _ in range(a.repeats):
        r = run_app(["--exit-after-show"])
        shown.append(secs(r["window_shown"]))
        shown_wall.append(secs(r["process_wall"]))
        heavy_show.add(r.get("heavy_modules", "?"))
        r = run_app([str(case), "--exit-after-first-image"])
        first.append(secs(r["first_image"]))
        first_wall.append(secs(r["process_wall"]))
    qt_floor = [run_peer("import PySide6.QtWidgets as w; a = w.QApplication([]); m = w.QMainWindow(); m.show(); a.processEvents()")
                for _ in range(a.repeats)]
    eager = [run_peer("import SimpleITK, pydicom; import app.ui.main_window as mw; import PySide6.QtWidgets as w; "
                      "a = w.QApplication([]); m = mw.MainWindow(); m.show(); a.processEvents()") for _ in range(a.repeats)]
    med = statistics.median
    load = os.getloadavg()[0]
    print(f"Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, load average {load:.1f}, "
          f"QT_QPA_PLATFORM={os.environ.get('QT_QPA_PLATFORM', 'offscreen')}, median of {a.repeats}; case {case.name}")
    print()
    print("| measure | median s | best s | target |")
    print("|---|---:|---:|---|")

    def line(name, xs, target=None):
        t = "" if target is None else (f"<= {target}: **met**" if med(xs) <= target else f"<= {target}: NOT met")
        print(f"| {name} | {med(xs):.3f} | {min(xs):.3f} | {t} |")
    line("process start -> main window shown (`isthmus open`)", shown, 1.0)
    line("  whole process incl. exit", shown_wall)
    line(f"process start -> first image of {case.name}", first, 1.5)
    line("  whole process incl. exit", first_wall)
    line("peer: bare PySide6 QMainWindow shown (floor)", qt_floor)
    line("peer: Isthmus window with SimpleITK + pydicom imported eagerly", eager)
    print()
    print(f"Heavy modules loaded when the window is shown: {', '.join(sorted(heavy_show))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
