"""Longest gap between the ticks of a 10 ms QTimer: how long the GUI event loop was stalled."""

from __future__ import annotations

import time


class EventGaps:
    """``start()``, run the work through the event loop, ``stop()``; ``gaps_s`` holds the time
    between consecutive ticks (the first one after start included), ``cpu_s`` the GUI thread's
    CPU time in each of them: on a loaded machine a gap stretches while its CPU share does not,
    so the pair tells our work from the machine's."""

    def __init__(self, interval_ms: int = 10) -> None:
        from PySide6.QtCore import QTimer

        self.gaps_s: list[float] = []
        self.cpu_s: list[float] = []
        self._last = time.perf_counter()
        self._last_cpu = time.thread_time()
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        self.gaps_s.append(now - self._last)
        self.cpu_s.append(cpu - self._last_cpu)
        self._last, self._last_cpu = now, cpu

    def start(self) -> None:
        self.gaps_s.clear()
        self.cpu_s.clear()
        self._last, self._last_cpu = time.perf_counter(), time.thread_time()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def longest_s(self) -> float:
        return max(self.gaps_s) if self.gaps_s else float("nan")

    def longest_text(self, skip_first: bool = False) -> str:
        """"longest gap 84 ms (GUI-thread CPU in it 31 ms)"."""
        pairs = list(zip(self.gaps_s, self.cpu_s, strict=True))[1 if skip_first else 0:]
        if not pairs:
            return "no ticks"
        gap, cpu = max(pairs)
        return f"longest gap {gap * 1000:.0f} ms (GUI-thread CPU in it {cpu * 1000:.0f} ms)"
