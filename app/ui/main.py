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
    t0 = _t0()
    phases: dict[str, float] = {"interpreter": time.time()}  # end time of each start-up phase
    early_import = None
    if paths:
        # the scan needs pydicom and its decoders: import them while Qt loads
        import threading

        early_import = threading.Thread(target=_prewarm_dicom, name="early-dicom-import", daemon=True)
        early_import.start()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    if early_import is not None:
        # The window's modules import pydicom too. Two threads importing one package's modules at
        # once can meet in pydicom's circular imports, and Python then hands one of them a partially
        # initialised module (ImportError at start-up). PySide6's import overlapped with it above;
        # the window waits for the rest, which it would wait for on pydicom's import lock anyway.
        early_import.join()
    from app.core.paths import resource
    from app.ui.main_window import MainWindow

    phases["imports"] = time.time()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Isthmus")
    app.setOrganizationName("Isthmus")
    app.setStyle("Fusion")
    qss = resource("styles", "dark.qss")
    if qss.is_file():
        app.setStyleSheet(qss.read_text(encoding="utf-8"))
    phases["qapplication"] = time.time()
    win = MainWindow(defer_extras=bool(paths))  # menus that can wait do so until the first image
    phases["window"] = time.time()
    timings: dict[str, float] = {}

    def report_and_quit(name: str, at: float | None = None) -> None:
        timings[name] = (time.time() if at is None else at) - t0
        heavy = ",".join(m for m in ("SimpleITK", "pydicom") if m in sys.modules) or "none"
        print(" ".join(f"{k}={v:.3f}s" for k, v in timings.items()) + f" heavy_modules={heavy} "
              + _phase_text(t0, phases), flush=True)
        win.close()
        app.quit()

    def mark(name: str) -> None:
        phases.setdefault(name, time.time())

    win.controller.sig_scanned.connect(lambda *_: mark("scan"))
    win.presenter.sig_first_image.connect(lambda *_: mark("preview"))

    if paths:  # start scanning first: the worker reads headers while the window is being shown
        win.open_paths(list(paths))
    win.show()
    if exit_after_show:
        QTimer.singleShot(0, lambda: report_and_quit("window_shown"))
    else:
        QTimer.singleShot(0, lambda: timings.setdefault("window_shown", time.time() - t0))

    def painted() -> None:  # called as the paint ends; the window closes in the next turn, not mid-paint
        mark("first_paint")
        at = phases["first_paint"]
        QTimer.singleShot(0, lambda: report_and_quit("first_image", at))

    if exit_after_first_image:  # reported once a view has painted the image (its paint event)
        watcher = _first_paint_watcher(win, painted)
        win.presenter.sig_first_image.connect(lambda _t: app.installEventFilter(watcher))
        QTimer.singleShot(30_000, lambda: report_and_quit("timeout"))
    if not paths:
        win.show_start_page()
    return int(app.exec())


def _first_paint_watcher(win, painted):
    """An event filter that, once installed (at the first image), lets the first paint of a
    view showing an image happen, then calls ``painted``: what "first image" means to a reader,
    rather than the next event-loop turn (which other queued work may come before or after)."""
    from PySide6.QtCore import QEvent, QObject

    from app.ui.viewer.slice_view import SliceView

    class Watcher(QObject):
        done = False

        def eventFilter(self, obj, event) -> bool:
            if self.done or event.type() != QEvent.Type.Paint:
                return False
            view = obj.parent()
            if not isinstance(view, SliceView) or view.viewport() is not obj or view.display is None:
                return False
            self.done = True
            view.viewportEvent(event)  # the paint itself, then the mark
            painted()
            return True

    return Watcher(win)


def _prewarm_dicom() -> None:
    """pydicom and its decoders, imported while Qt loads (app.viewer.loading.prewarm), without
    ``requests``: pydicom.data.download imports it when it can, only to fetch pydicom's own test
    files, and it was 143 ms of the 1.06 s this import takes (python -X importtime, load average
    5), all on the way to the first image (the window waits for this thread). Marked missing
    for this import only; whoever needs requests later (app.net.web) imports it as usual."""
    from app.viewer.loading import prewarm

    blocked = "requests" not in sys.modules
    if blocked:
        sys.modules["requests"] = None  # type: ignore[assignment]  # import requests -> ImportError
    try:
        prewarm()
    finally:
        if blocked and sys.modules.get("requests", 0) is None:
            del sys.modules["requests"]


def _phase_text(t0: float, phases: dict[str, float]) -> str:
    """"phase_imports=0.210s ...": each phase's own duration, in the order they ended."""
    out, last = [], t0
    for name, end in sorted(phases.items(), key=lambda kv: kv[1]):
        out.append(f"phase_{name}={end - last:.3f}s")
        last = end
    return " ".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    return run(list(argv or ()))
