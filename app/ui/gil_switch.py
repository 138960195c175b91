"""The interpreter's GIL switch interval for a GUI process (issue 16).

A worker thread keeps the GIL until a waiting thread has asked for it for one switch interval
(CPython's default: 5 ms). The GUI thread gives the GIL up on most Qt calls and waits that long
to take it back each time, so a burst of GUI work beside a busy worker stretches many times over:
opening a 10 MB findings file (worker parsing, autosave serialising, GUI filling the table) left
the GUI's event loop without a turn for 437-450 ms at 5 ms, 45-148 ms at 1 ms and 59-69 ms at
0.2 ms (four runs each, bench/panel_bench.py's findings part, 2-core machine). The interval only
matters while a thread waits, so an idle GUI costs the workers nothing.
"""

from __future__ import annotations

import sys

GUI_SWITCH_INTERVAL_S = 0.0002


def use_gui_switch_interval() -> None:
    """Lower the switch interval to GUI_SWITCH_INTERVAL_S (never raise it)."""
    if sys.getswitchinterval() > GUI_SWITCH_INTERVAL_S:
        sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
