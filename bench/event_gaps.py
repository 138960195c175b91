"""Longest gap between the ticks of a 10 ms QTimer: how long the GUI event loop was stalled."""

from __future__ import annotations

import time


class EventGaps:
    """``start()``, run the work through the event loop, ``stop()``; ``gaps_s`` holds the time
    between consecutive ticks (the first one after start included)."""

    def __init__(self, interval_ms: int = 10) -> None:
        from PySide6.QtCore import QTimer

        self.gaps_s: list[float] = []
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps_s.append(now - self._last)
        self._last = now

    def start(self) -> None:
        self.gaps_s.clear()
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def longest_s(self) -> float:
        return max(self.gaps_s) if self.gaps_s else float("nan")
