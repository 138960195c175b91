"""Offscreen rendering for the self-test (app/selftest.py): a display goes through the viewer's
own SliceView and the painted viewport is checked, and the main window is built once."""

from __future__ import annotations

import os
import sys
from typing import Any

VIEW_SIZE_PX = (384, 384)


def ensure_application() -> Any:
    """The QApplication (offscreen unless one exists already or a platform was chosen)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(sys.argv[:1])
    return app


def _gray(image: Any):
    import numpy as np
    from PySide6.QtGui import QImage

    img = image.convertToFormat(QImage.Format.Format_Grayscale8)
    w, h, stride = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=stride * h).reshape(h, stride)[:, :w]
    return buf.copy()


class OffscreenRenderer:
    """Paints displays in one SliceView; ``__call__`` is the self-test's RenderFn."""

    def __init__(self) -> None:
        from app.ui.viewer.slice_view import SliceView
        from app.viewer.state import ViewerState

        self.app = ensure_application()
        self.view = SliceView(ViewerState())
        self.view.resize(*VIEW_SIZE_PX)
        self.view.show()
        self.app.processEvents()

    def __call__(self, display: Any) -> str:
        from app.selftest import SelfTestError

        self.view.set_display(display)
        self.app.processEvents()
        shown = _gray(self.view.viewport().grab().toImage())
        frame = self.view.rendered_pixels()
        if frame is None or frame.size == 0 or int(frame.max()) == int(frame.min()):
            raise SelfTestError("the viewer rendered a blank frame")
        lit_pct = 100.0 * float((shown > 8).mean())
        if lit_pct < 1.0:
            raise SelfTestError(f"the painted viewport is black ({lit_pct:.2f} % of pixels lit)")
        return f"frame {frame.shape[1]}x{frame.shape[0]}, {lit_pct:.0f} % of the viewport lit"

    def close(self) -> None:
        self.view.close()
        self.view.deleteLater()
        self.app.processEvents()


def check_main_window() -> str:
    """Build the workstation window offscreen, show it and close it again."""
    from app.ui.main_window import MainWindow

    app = ensure_application()
    win = MainWindow()
    win.resize(1200, 800)
    win.show()
    app.processEvents()
    menus = [a.text().replace("&", "") for a in win.menuBar().actions()]
    win.close()
    win.deleteLater()
    app.processEvents()
    return "menus " + ", ".join(menus)
