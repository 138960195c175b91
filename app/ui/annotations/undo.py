"""UndoRouter: one Edit > Undo / Redo over the two undo stacks of a study.

The annotation store undoes drawing (``store.undo``); the session undoes table, context and
impression edits (``session.undo``) - see docs/panels.md. The router records, in order, which
stack received each new step (by watching their lengths grow with an empty redo side), so
Ctrl+Z undoes the most recent step whichever stack it is on, and Ctrl+Shift+Z / Ctrl+Y redoes
in reverse order.
"""

from __future__ import annotations

from typing import Any, Optional

from app.core.signals import Signal


def _depth(obj: Any) -> tuple[int, int]:
    return len(getattr(obj, "_undo", ()) or ()), len(getattr(obj, "_redo", ()) or ())


class UndoRouter:
    def __init__(self) -> None:
        self.changed = Signal("changed")
        self.session: Any = None
        self.store: Any = None
        self._undo: list[str] = []
        self._redo: list[str] = []
        self._depths = {"store": (0, 0), "session": (0, 0)}
        self._busy = False

    def attach(self, session: Any) -> None:
        self.detach()
        self.session = session
        self.store = getattr(session, "annotation_store", None)
        self._undo.clear()
        self._redo.clear()
        if self.store is not None:
            self.store.events.history_changed.connect(self._on_store)
            self._depths["store"] = _depth(self.store)
        session.findings_changed.connect(self._on_session)
        self._depths["session"] = _depth(session)
        self.changed.emit()

    def detach(self) -> None:
        if self.store is not None:
            self.store.events.history_changed.disconnect(self._on_store)
        if self.session is not None:
            self.session.findings_changed.disconnect(self._on_session)
        self.session = self.store = None

    def _track(self, name: str, obj: Any) -> None:
        before_u, _before_r = self._depths[name]
        u, r = _depth(obj)
        self._depths[name] = (u, r)
        if not self._busy and u > before_u and r == 0:
            self._undo.append(name)
            self._redo.clear()
        self.changed.emit()

    def _on_store(self, *_: Any) -> None:
        self._track("store", self.store)

    def _on_session(self, *_: Any) -> None:
        self._track("session", self.session)

    def _target(self, name: str) -> Any:
        return self.store if name == "store" else self.session

    def _pop(self, stack: list[str], can: str) -> Optional[str]:
        while stack:
            name = stack.pop()
            if getattr(self._target(name), can, False):
                return name
        for name in ("store", "session"):  # steps from before the router was attached
            if self._target(name) is not None and getattr(self._target(name), can, False):
                return name
        return None

    @property
    def can_undo(self) -> bool:
        return any(getattr(self._target(n), "can_undo", False) for n in ("store", "session") if self._target(n) is not None)

    @property
    def can_redo(self) -> bool:
        return any(getattr(self._target(n), "can_redo", False) for n in ("store", "session") if self._target(n) is not None)

    def undo(self) -> bool:
        name = self._pop(self._undo, "can_undo")
        if name is None:
            return False
        self._busy = True
        try:
            ok = self._target(name).undo()
        finally:
            self._busy = False
        self._depths = {"store": _depth(self.store), "session": _depth(self.session)}
        if ok:
            self._redo.append(name)
        self.changed.emit()
        return bool(ok)

    def redo(self) -> bool:
        name = self._pop(self._redo, "can_redo")
        if name is None:
            return False
        self._busy = True
        try:
            ok = self._target(name).redo()
        finally:
            self._busy = False
        self._depths = {"store": _depth(self.store), "session": _depth(self.session)}
        if ok:
            self._undo.append(name)
        self.changed.emit()
        return bool(ok)
