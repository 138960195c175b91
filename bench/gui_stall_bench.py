"""Benchmark (run by hand, not part of `make test`): the GUI thread never stalls while a
300-slice 512x512 CT is scanned and loaded (issue 4: no event-loop stall over 100 ms).

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest bench/gui_stall_bench.py -s

The peer measured in the same run is the same 10 ms timer with nothing loading (scheduling
noise of the machine); the printed line gives both, each longest gap with the GUI thread's CPU
time in it (a loaded machine stretches a gap, not its CPU share), and the longest gap while the
first study's review dock is built and goes into the window (measured before the idle second:
it used to fall into it, which was the 134 ms "idle" figure of issue 16). Timing assertions do not belong in the unit
suite on a shared 2-core CI machine, so this lives here."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("ISTHMUS_DATA_DIR", tempfile.mkdtemp(prefix="isthmus-bench-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ui"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from event_gaps import EventGaps
from viewer_study import study_loaded, write_ct, write_study


@pytest.fixture
def synthetic_study(tmp_path_factory) -> Path:
    return write_study(tmp_path_factory.mktemp("study"))


_loaded = study_loaded


def test_gui_thread_stays_responsive_while_loading_a_300_slice_ct(qtbot, tmp_path, synthetic_study):
    """No event-loop stall over 100 ms while a 300-slice 512x512 CT is scanned and loaded.

    The machine running the tests may be shared: the same timer is first run for a second with
    nothing loading, and any scheduling noise seen then (above 20 ms) is added to the bound."""
    from app.ui.main_window import MainWindow

    write_ct(tmp_path / "ct300", n_slices=300, matrix=512)
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    # pydicom & co. are imported in the background once the window is up (imports hold the GIL)
    qtbot.waitUntil(lambda: win.controller.warm, timeout=60_000)
    # a workstation in use: one study already open (the review panels are built), then the CT
    meter = EventGaps()
    win.open_paths([str(synthetic_study)])
    qtbot.waitUntil(lambda: _loaded(win), timeout=30_000)
    # the review dock is built once loading is idle, one tab per event-loop turn; it then goes into
    # the window, which lays the viewer out again (once per window): measured on its own
    meter.start()
    qtbot.waitUntil(lambda: win.annotations.dock is not None, timeout=15_000)
    qtbot.wait(300)
    first_dock = meter.longest_text(skip_first=True)
    meter.start()
    qtbot.wait(1000)
    idle_max = max(meter.gaps_s[1:])
    idle_text = meter.longest_text(skip_first=True)
    meter.start()
    win.state.set_layout("pars")
    t_open = time.perf_counter()
    win.open_paths([str(tmp_path / "ct300")])

    def ct_shown() -> bool:
        v = win.grid.view_for_role("ct_axial")
        return v is not None and getattr(v.display, "kind", "") == "volume" and v.display.n_slices == 300
    qtbot.waitUntil(lambda: ct_shown() and _loaded(win), timeout=60_000)
    load_s = time.perf_counter() - t_open
    qtbot.wait(300)  # and the first renders / thumbnails after it
    meter.stop()
    assert win.grid.view_for_role("ct_axial").display.n_slices == 300
    win.close()
    gaps = meter.gaps_s
    longest = max(gaps[1:])
    print(f"load {load_s:.2f} s, {len(gaps)} ticks, longest gap {longest * 1000:.0f} ms (idle {idle_max * 1000:.0f} ms)")
    print(f"  CT load: {meter.longest_text(skip_first=True)}; idle second: {idle_text}; "
          f"first review dock build (before, not in the bound): {first_dock}; load average {os.getloadavg()[0]:.1f}")
    assert len(gaps) > 20
    bound = 0.100 + max(0.0, idle_max - 0.020)
    assert longest < bound, f"longest event-loop gap {longest * 1000:.0f} ms (idle noise {idle_max * 1000:.0f} ms)"
