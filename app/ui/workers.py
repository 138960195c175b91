"""Run pure functions on a QThreadPool and hand results back on the GUI thread.

``submit(pool, fn, *args)`` calls ``fn(*args, progress=..., cancel=...)`` in a worker thread.
The worker only *returns* its result; Qt delivers ``finished(result)`` / ``failed(message)`` /
``cancelled()`` / ``progress(done, total)`` to the GUI thread through queued signals, so no
widget is ever touched off the GUI thread.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app.core.progress import Cancelled, CancelToken

log = logging.getLogger(__name__)


def _spent(*_args: Any, **_kwargs: Any) -> None:
    raise RuntimeError("this worker has already run")


class WorkerSignals(QObject):
    """Each signal carries the worker's ``tag`` first, so one GUI-thread QObject slot can serve
    many workers (connect to bound methods of GUI-thread QObjects: Qt then queues the call to
    the GUI thread)."""

    progress = Signal(object, int, int)
    finished = Signal(object, object)
    failed = Signal(object, str)
    cancelled = Signal(object)


class Worker(QRunnable):
    def __init__(self, fn: Callable[..., Any], *args: Any, pass_progress: bool = True, tag: Any = None,
                 signals: WorkerSignals | None = None, **kwargs: Any) -> None:
        """``signals``: one WorkerSignals shared by many workers (their ``tag`` tells them apart),
        connected once by their owner; by default each worker has its own."""
        super().__init__()
        self.tag = tag
        self.setAutoDelete(False)  # Python owns the runnable (the controller keeps it until it reports)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.pass_progress = pass_progress
        self.cancel_token = CancelToken()
        self.signals = signals if signals is not None else WorkerSignals()

    def cancel(self) -> None:
        self.cancel_token.cancel()

    def _progress(self, done: int, total: int) -> None:
        self.signals.progress.emit(self.tag, int(done), int(total))

    def run(self) -> None:  # worker thread
        try:
            self._run()
        finally:
            # QThreadPool.start hands the runnable to C++ and PySide then keeps this Python object
            # alive as long as the pool (auto-delete is off; start_worker deletes it later): what
            # it worked on must not live that long: whole scans stayed alive through their
            # workers' arguments, one study's worth per study opened (bench/bigct_bench.py's six
            # cases: RSS +6-10 MB a round, every round). The tag stays (owners read it until the
            # result is delivered): keep it small, or hold big things in it weakly.
            self.fn, self.args, self.kwargs = _spent, (), {}
            _ran.append((time.monotonic(), self))

    def _run(self) -> None:
        try:
            if self.pass_progress:
                result = self.fn(*self.args, progress=self._progress, cancel=self.cancel_token, **self.kwargs)
            else:
                result = self.fn(*self.args, **self.kwargs)
        except Cancelled:
            self.signals.cancelled.emit(self.tag)
            return
        except Exception as exc:  # reported, never raised into Qt
            log.debug("worker failed: %s", traceback.format_exc())
            self.signals.failed.emit(self.tag, str(exc) or type(exc).__name__)
            return
        if self.cancel_token.cancelled:
            self.signals.cancelled.emit(self.tag)
        else:
            self.signals.finished.emit(self.tag, result)


# Runnables that have run, oldest first (appended on worker threads: deque.append is atomic).
# PySide's QThreadPool.start keeps a Python reference to every runnable it starts until the pool
# dies, so each one, with its WorkerSignals QObject and cancel token, stayed for good: about two a
# study opened in the window's global pool (study index, SR search), one more round of the six
# sample cases = 12 more (issue 16). ``start_worker`` deletes those that finished a while ago;
# the delay lets the thread return from run() and their queued signals reach the GUI thread.
_ran: deque[tuple[float, Worker]] = deque()
RETIRE_AFTER_S = 5.0


def start_worker(pool: QThreadPool, worker: Worker, priority: int = 0) -> Worker:
    """``pool.start(worker, priority)`` on the GUI thread, after deleting the runnables that
    finished at least RETIRE_AFTER_S ago (only their C++ side: a Python reference to one stays
    usable for its tag, cancel token and signals)."""
    now = time.monotonic()
    while _ran and now - _ran[0][0] >= RETIRE_AFTER_S:
        old = _ran.popleft()[1]
        if shiboken6.isValid(old):
            shiboken6.delete(old)
    pool.start(worker, priority)
    return worker
