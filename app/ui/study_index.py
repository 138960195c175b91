"""OpenedStudyIndexer: what the viewer opened goes into the study list, written in a worker.

``index(result, paths)`` writes the viewer's own scan (no second read of the headers) into the
study database on a one-thread pool and refreshes the study list on the GUI thread when done.
Written on the GUI thread, the 300 records of a 300-slice CT held it 60-230 ms in one step, in
the same turn as the first layout of the study (bench/gui_stall_bench.py, issue 16); the
database serialises its callers with a lock (app.studydb.database), so a worker may write.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, QThreadPool

from app.ui.workers import Worker, start_worker


class OpenedStudyIndexer(QObject):
    def __init__(self, db: Any, on_indexed: Callable[[], None], on_error: Callable[[str], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self._on_indexed = on_indexed
        self._on_error = on_error
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)  # one write at a time, in the order the studies were opened
        self._running: dict[int, Worker] = {}  # kept alive until they report
        self._count = 0

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def index(self, result: Any, paths: Sequence[str]) -> None:
        if self.db is None or not paths:
            return
        self._count += 1
        worker = Worker(self.db.index_scan, result, list(paths), pass_progress=False, tag=self._count)
        worker.signals.finished.connect(self._finished)
        worker.signals.failed.connect(self._failed)
        self._running[self._count] = worker
        start_worker(self.pool, worker)

    def _finished(self, tag: object, _report: Any) -> None:
        self._running.pop(tag, None)  # type: ignore[call-overload]
        self._on_indexed()

    def _failed(self, tag: object, message: str) -> None:
        self._running.pop(tag, None)  # type: ignore[call-overload]
        self._on_error(message)

    def shutdown(self) -> None:
        self.pool.waitForDone(10_000)
        self._running.clear()
