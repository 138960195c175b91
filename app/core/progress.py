"""Progress reporting and cancellation for long pure-Python work (no Qt).

Long functions take ``progress: ProgressFn | None`` (called as ``progress(done, total)``)
and ``cancel: CancelToken | None``; they call ``check(cancel)`` between units of work,
which raises :class:`Cancelled` once the token is set.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

ProgressFn = Callable[[int, int], None]


class Cancelled(Exception):
    """Raised inside long work when the user cancelled it."""


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


def check(cancel: CancelToken | None) -> None:
    if cancel is not None and cancel.cancelled:
        raise Cancelled("cancelled by the user")


def report(progress: ProgressFn | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)
