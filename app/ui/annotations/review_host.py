"""ReviewDockHost: the review dock (findings, context, pathway, key images) of a MainWindow.

The dock is built once loading has been idle DOCK_IDLE_MS (at the latest DOCK_MAX_WAIT_MS after
the study opened), one tab per event-loop turn, and goes into the window when its tabs are all
there; ``ensure_dock()`` builds it (or finishes it) at once. A later study fills the same dock,
again one tab per turn (issue 16: building all the panels in one step stalled the event loop
130-330 ms). ``park(what)`` empties the dock in the same turn ("Loading ..."): nothing of the
previous study stays visible while the next one loads. ``sig_dock_ready`` is emitted whenever
the dock's tabs for a session are complete (first build and every later study).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QDockWidget

DOCK_MAX_WAIT_MS = 8000  # build the review dock at the latest this long after the study opened
DOCK_IDLE_MS = 750  # ... or once loading has been idle this long


class ReviewDockHost(QObject):
    sig_dock_ready = Signal(object)

    def __init__(self, window: Any, session_of: Callable[[], Any], anonymised: Callable[[], bool]) -> None:
        super().__init__(window)
        self.window = window
        self._session_of = session_of
        self._anonymised = anonymised
        self.dock: QDockWidget | None = None  # in the window, its tabs built at least once
        self._building: QDockWidget | None = None  # built in steps, not in the window yet
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._tick)
        self._waited = self._idle = 0

    @property
    def review_widget(self) -> Any:
        return self.dock.widget() if self.dock is not None else None

    def show_session(self, session: Any) -> None:
        """The window's current session changed to ``session``: shown in the dock in steps, or the
        dock is built once loading is idle."""
        if self.dock is not None:
            self.dock.widget().set_session(session, in_steps=True)
        elif not self._timer.isActive():
            self._waited = self._idle = 0
            self._timer.start()

    def park(self, loading_what: str) -> None:
        """Empty the dock now and say what is loading (any unfinished build stops)."""
        for dock in (self.dock, self._building):
            if dock is not None:
                dock.widget().show_loading(loading_what)

    def set_anonymised(self, on: bool) -> None:
        for dock in (self.dock, self._building):
            if dock is not None:
                dock.widget().set_anonymised(on)

    def _tick(self) -> None:
        step = self._timer.interval()
        self._waited += step
        self._idle = 0 if getattr(self.window.controller, "busy", False) else self._idle + step
        if self._idle < DOCK_IDLE_MS and self._waited < DOCK_MAX_WAIT_MS:
            return
        self._timer.stop()
        self._build(in_steps=True)

    def ensure_dock(self) -> QDockWidget | None:
        """The review dock of the current session, built (or finished) now."""
        return self._build(in_steps=False)

    def _build(self, in_steps: bool) -> QDockWidget | None:
        session = self._session_of()
        if session is None:
            return None
        self._timer.stop()
        dock = self.dock or self._building
        if dock is None:
            from app.ui.findings import make_review_dock

            dock = self._building = make_review_dock(None, self.window)
            dock.hide()
            dock.widget().set_anonymised(self._anonymised())
            dock.widget().sig_panels_ready.connect(self._on_panels_ready)
        widget = dock.widget()
        if widget.session is not session:
            widget.set_session(session, in_steps=True)
        if not in_steps:
            widget.finish_building()
        return self.dock

    def _on_panels_ready(self) -> None:
        if self.dock is None and self._building is not None:
            self.dock, self._building = self._building, None
            self.window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
            self.dock.show()
            self.size_review_dock()
            QTimer.singleShot(0, self.dock, self.size_review_dock)  # again once laid out (not after the dock is gone)
        if self.dock is not None:
            self.sig_dock_ready.emit(self.dock)

    def size_review_dock(self) -> None:
        """The reader's last width, else about a quarter of the window: images keep priority."""
        from app.ui.findings.review_dock import default_dock_width

        if self.dock is None:
            return
        remembered = self.window.settings.get("window/review_width", 0)
        width = default_dock_width(self.window.width(), remembered)
        self.window.resizeDocks([self.dock], [width], Qt.Orientation.Horizontal)

    def close(self) -> None:
        self._timer.stop()
        if self.dock is not None and self.dock.isVisible():  # the reader's splitter position
            self.window.settings.set("window/review_width", int(self.dock.width()))
            self.window.settings.sync()
        for dock in (self.dock, self._building):
            if dock is not None:
                dock.widget().cleanup()  # an unfinished build stops too
