"""Work that waits until the first image of a study is on screen (issue 16: first image
first). The image's identity overlay is drawn with the image itself; what waits here is the
review side (session restore, first pathway evaluation, review dock)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer

FIRST_IMAGE_WAIT_MS = 3000  # a study whose images fail or are slow still gets its review by then


def after_first_image(presenter: Any, fn: Callable[[], None]) -> None:
    """Run ``fn`` in the event-loop turn after the presenter's first image of the current
    study is painted (at once, in the next turn, when it already is), and at the latest after
    FIRST_IMAGE_WAIT_MS. ``fn`` may run twice (image, then the deadline): it must be idempotent."""
    if getattr(presenter, "first_image_shown", True):
        QTimer.singleShot(0, fn)
        return

    def go(*_: Any) -> None:
        with contextlib.suppress(RuntimeError, TypeError):
            presenter.sig_first_image.disconnect(go)
        QTimer.singleShot(0, fn)

    presenter.sig_first_image.connect(go)
    QTimer.singleShot(FIRST_IMAGE_WAIT_MS, fn)
