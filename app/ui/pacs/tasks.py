"""One app.net call in a worker thread, reported back on the GUI thread (app.ui.workers.Worker).

``NetTask(fn, *args)`` calls ``fn(*args, progress=..., cancel=...)`` (each only when asked for)
off the GUI thread; ``progress(object)`` carries whatever the call reports (RetrieveProgress,
or ``(done, total)`` for a send), ``finished(result)``, ``failed(message)`` and ``cancelled()``
arrive queued on the GUI thread. The worker's CancelToken is the one the call receives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal

from app.core.progress import CancelToken
from app.ui.workers import Worker, start_worker


class NetTask(QObject):
    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, fn: Callable[..., Any], *args: Any, with_progress: bool = False, with_cancel: bool = True,
                 parent: QObject | None = None, **kwargs: Any) -> None:
        super().__init__(parent)
        self.running = False
        self._worker = Worker(self._call, pass_progress=True)
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._with_progress, self._with_cancel = with_progress, with_cancel
        self._worker.signals.finished.connect(self._on_finished)
        self._worker.signals.failed.connect(self._on_failed)
        self._worker.signals.cancelled.connect(self._on_cancelled)

    @property
    def cancel_token(self) -> CancelToken:
        return self._worker.cancel_token

    def _call(self, progress: Any = None, cancel: CancelToken | None = None) -> Any:  # worker thread
        kwargs = dict(self._kwargs)
        if self._with_progress:
            kwargs["progress"] = self._relay
        if self._with_cancel:
            kwargs["cancel"] = cancel
        return self._fn(*self._args, **kwargs)

    def _relay(self, *values: Any) -> None:  # worker thread: a queued signal to the GUI thread
        self.progress.emit(values[0] if len(values) == 1 else values)

    def start(self, pool: QThreadPool | None = None) -> NetTask:
        self.running = True
        start_worker(pool or QThreadPool.globalInstance(), self._worker)
        return self

    def cancel(self) -> None:
        self._worker.cancel()

    def _on_finished(self, _tag: Any, result: Any) -> None:
        self.running = False
        self.finished.emit(result)

    def _on_failed(self, _tag: Any, message: str) -> None:
        self.running = False
        self.failed.emit(message)

    def _on_cancelled(self, _tag: Any) -> None:
        self.running = False
        self.cancelled.emit()
