"""Steps run one per event-loop turn: a timer that came due during a step runs before the next
step (a repeating 0 ms timer ran every step back to back); cancel and finish do what they say."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer

from app.ui.steps import Steps


def test_other_timers_run_between_steps(qtbot):
    owner = QObject()
    log: list[str] = []
    ticker = QTimer()
    ticker.setInterval(5)
    ticker.timeout.connect(lambda: log.append("tick"))

    def step(name: str):
        def run() -> None:
            log.append(name)
            time.sleep(0.02)  # a step longer than the ticker's interval
        return run

    steps = Steps(owner)
    ticker.start()
    steps.start([step("a"), step("b"), step("c")])
    assert log == []  # nothing runs in the caller's turn
    qtbot.waitUntil(lambda: not steps.pending, timeout=5_000)
    ticker.stop()
    done = [x for x in log if x != "tick"]
    assert done == ["a", "b", "c"]
    i_a, i_b, i_c = (log.index(x) for x in done)
    assert "tick" in log[i_a:i_b] and "tick" in log[i_b:i_c]


def test_cancel_and_finish(qtbot):
    owner = QObject()
    log: list[str] = []
    steps = Steps(owner)
    steps.start([lambda: log.append("a"), lambda: log.append("b")])
    steps.cancel()
    qtbot.wait(50)
    assert log == [] and not steps.pending
    steps.start([lambda: log.append("a"), lambda: log.append("b")])
    steps.finish()
    assert log == ["a", "b"] and not steps.pending
    qtbot.wait(50)
    assert log == ["a", "b"]  # nothing runs twice
