"""A tiny synchronous signal (no Qt): connect, disconnect, emit, blocked()."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable


class Signal:
    def __init__(self) -> None:
        self._slots: list[Callable] = []
        self._blocked = 0

    def connect(self, slot: Callable) -> None:
        if slot not in self._slots:
            self._slots.append(slot)

    def disconnect(self, slot: Callable | None = None) -> None:
        if slot is None:
            self._slots.clear()
        elif slot in self._slots:
            self._slots.remove(slot)

    def emit(self, *args) -> None:
        if self._blocked:
            return
        for slot in list(self._slots):
            slot(*args)

    @contextmanager
    def blocked(self):
        self._blocked += 1
        try:
            yield
        finally:
            self._blocked -= 1

    def __len__(self) -> int:
        return len(self._slots)
