"""Composition root: QApplication, theme, MainWindow. The only place the GUI is started."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence

T_IMPORT = time.perf_counter()


def _t0() -> float:
    """Epoch seconds the process was started from (bench sets ISTHMUS_T0)."""
    env = os.environ.get("ISTHMUS_T0")
    return float(env) if env else time.time() - (time.perf_counter() - T_IMPORT)


def run(paths: Sequence[str] = (), exit_after_first_image: bool = False, exit_after_show: bool = False) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.core.paths import resource
    from app.ui.main_window import MainWindow

    t0 = _t0()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Isthmus")
    app.setOrganizationName("Isthmus")
    app.setStyle("Fusion")
    qss = resource("styles", "dark.qss")
    if qss.is_file():
        app.setStyleSheet(qss.read_text(encoding="utf-8"))
    win = MainWindow()
    timings: dict[str, float] = {}

    def report_and_quit(name: str) -> None:
        timings[name] = time.time() - t0
        heavy = ",".join(m for m in ("SimpleITK", "pydicom") if m in sys.modules) or "none"
        print(" ".join(f"{k}={v:.3f}s" for k, v in timings.items()) + f" heavy_modules={heavy}", flush=True)
        win.close()
        app.quit()

    if paths:  # start scanning first: the worker reads headers while the window is being shown
        win.open_paths(list(paths))
    win.show()
    if exit_after_show:
        QTimer.singleShot(0, lambda: report_and_quit("window_shown"))
    else:
        QTimer.singleShot(0, lambda: timings.setdefault("window_shown", time.time() - t0))
    if exit_after_first_image:
        win.presenter.sig_first_image.connect(
            lambda _t: QTimer.singleShot(0, lambda: report_and_quit("first_image")))
        QTimer.singleShot(30_000, lambda: report_and_quit("timeout"))
    if not paths:
        win.show_start_page()
    return int(app.exec())


def main(argv: Sequence[str] | None = None) -> int:
    return run(list(argv or ()))
