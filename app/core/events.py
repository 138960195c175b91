"""A tiny pure-Python event (observer) for the domain core: no Qt (named Event so it never reads as Qt's Signal).

    changed = Event("changed")
    changed.connect(callback)        # bound methods are held weakly, plain functions strongly
    changed.emit(new, old)           # calls every callback synchronously, in connection order
    with changed.blocked():          # no emission inside the block (guards feedback loops)
        ...
    changed.disconnect(callback)

Emission is synchronous on the calling thread. Exceptions raised by a callback propagate to
the emitter (tests see them); the remaining callbacks of that emission are not called.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

__all__ = ["Event", "EventGroup"]


class Event:
    """One event with any number of callbacks."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._slots: list[Any] = []  # weakref.WeakMethod or a strong callable
        self._block_depth = 0

    # ------------------------------------------------------------------ connections
    @staticmethod
    def _ref(callback: Callable[..., Any]) -> Any:
        if hasattr(callback, "__self__") and hasattr(callback, "__func__"):
            return weakref.WeakMethod(callback)
        return callback

    @staticmethod
    def _resolve(slot: Any) -> Callable[..., Any] | None:
        if isinstance(slot, weakref.WeakMethod):
            resolved: Callable[..., Any] | None = slot()
            return resolved
        plain: Callable[..., Any] = slot
        return plain

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """Connect ``callback`` (once; connecting twice is a no-op). Returns it (decorator use)."""
        if not callable(callback):
            raise TypeError(f"signal {self.name!r}: cannot connect a non-callable {callback!r}")
        if not self.is_connected(callback):
            # forget the methods of objects gone since (a long-lived event would otherwise keep
            # one dead reference per study's panel connected to it: issue 16, memory)
            self._slots = [s for s in self._slots if self._resolve(s) is not None]
            self._slots.append(self._ref(callback))
        return callback

    def disconnect(self, callback: Callable[..., Any] | None = None) -> None:
        """Disconnect ``callback``; with no argument disconnect everything. Unknown: no-op."""
        if callback is None:
            self._slots.clear()
            return
        self._slots = [s for s in self._slots if self._resolve(s) not in (None, callback)]

    def is_connected(self, callback: Callable[..., Any]) -> bool:
        return any(self._resolve(s) == callback for s in self._slots)

    def __len__(self) -> int:
        return sum(1 for s in self._slots if self._resolve(s) is not None)

    # ------------------------------------------------------------------ emission
    @property
    def is_blocked(self) -> bool:
        return self._block_depth > 0

    @contextlib.contextmanager
    def blocked(self) -> Iterator[None]:
        """Suppress emission inside the ``with`` block (nests)."""
        self._block_depth += 1
        try:
            yield
        finally:
            self._block_depth -= 1

    def emit(self, *args: Any) -> None:
        if self._block_depth:
            return
        dead = False
        for slot in list(self._slots):
            cb = self._resolve(slot)
            if cb is None:
                dead = True
                continue
            cb(*args)
        if dead:
            self._slots = [s for s in self._slots if self._resolve(s) is not None]

    def __repr__(self) -> str:
        return f"<Event {self.name!r} with {len(self)} callback(s)>"


class EventGroup:
    """A named bundle of events: ``EventGroup("added", "removed").added.connect(...)``."""

    def __init__(self, *names: str) -> None:
        self._names = tuple(names)
        for n in names:
            setattr(self, n, Event(n))

    if TYPE_CHECKING:  # the named signals are set in __init__; tell the type checker what they are
        def __getattr__(self, name: str) -> Event: ...

        def __setattr__(self, name: str, value: Any) -> None: ...

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    def events(self) -> list[Event]:
        return [getattr(self, n) for n in self._names]

    @contextlib.contextmanager
    def blocked(self) -> Iterator[None]:
        """Block every signal of the group inside the block."""
        with contextlib.ExitStack() as stack:
            for s in self.events():
                stack.enter_context(s.blocked())
            yield

    def disconnect_all(self) -> None:
        for s in self.events():
            s.disconnect()
