"""One undo history for a study (no Qt): the domain's QUndoStack.

Drawings (annotation store), table edits, clinical-context and impression edits (the study
session) all push their commands here, so Edit > Undo walks them in the order they were made.

    history = History()
    history.push(cmd)            # runs cmd.redo() and records it (clears the redo side)
    history.undo(); history.redo()
    with history.capture() as steps:   # commands pushed inside run but are collected, not
        store.update(...)              # recorded: the caller folds them into one command
    history.changed.connect(cb)  # can_undo / can_redo / texts may have changed

A command has ``text``, ``redo()`` and ``undo()``; ``merge_with(newer) -> bool`` (optional)
lets the top command absorb the next one (QUndoCommand.mergeWith): "complete the marker I
just placed" stays one step.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Protocol, runtime_checkable

from app.core.events import Event

__all__ = ["DEFAULT_LIMIT", "Command", "History"]

DEFAULT_LIMIT = 500


@runtime_checkable
class Command(Protocol):
    @property
    def text(self) -> str: ...

    def redo(self) -> None: ...

    def undo(self) -> None: ...


class History:
    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.changed = Event("history_changed")
        self.limit = int(limit)
        self._undo: list[Command] = []
        self._redo: list[Command] = []
        self._captures: list[list[Command]] = []
        self._running = False

    # ------------------------------------------------------------------ state
    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_text(self) -> str:
        return self._undo[-1].text if self._undo else ""

    @property
    def redo_text(self) -> str:
        return self._redo[-1].text if self._redo else ""

    @property
    def running(self) -> bool:
        """True while an undo or redo is being replayed (no new commands may be recorded)."""
        return self._running

    def __len__(self) -> int:
        return len(self._undo)

    def top(self) -> Command | None:
        """The command Undo would revert next (None when there is none)."""
        return self._undo[-1] if self._undo else None

    def texts(self) -> list[str]:
        """Texts of the undoable commands, oldest first."""
        return [c.text for c in self._undo]

    # ------------------------------------------------------------------ recording
    def push(self, command: Command, *, done: bool = False) -> Command:
        """Run ``command`` (unless ``done``: it already ran) and record it. Inside ``capture()``
        the command is collected for the capturing caller instead. A push while an undo/redo
        is replayed only runs (the replayed command owns that change)."""
        if not done:
            command.redo()
        if self._running:
            return command
        if self._captures:
            self._captures[-1].append(command)
            return command
        top = self.top()
        merge = getattr(top, "merge_with", None)
        if not (callable(merge) and merge(command)):
            self._undo.append(command)
            del self._undo[:-self.limit]
        self._redo.clear()
        self.changed.emit()
        return command

    @contextlib.contextmanager
    def capture(self) -> Iterator[list[Command]]:
        """Collect (not record) the commands pushed inside the block; they have run."""
        steps: list[Command] = []
        self._captures.append(steps)
        try:
            yield steps
        finally:
            self._captures.pop()

    def discard_top(self) -> Command | None:
        """Forget the top command without undoing it (its effect was reverted by the caller)."""
        if not self._undo:
            return None
        cmd = self._undo.pop()
        self.changed.emit()
        return cmd

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()
        self.changed.emit()

    # ------------------------------------------------------------------ undo / redo
    def undo(self) -> bool:
        if not self._undo or self._running:
            return False
        cmd = self._undo.pop()
        self._replay(cmd.undo)
        self._redo.append(cmd)
        self.changed.emit()
        return True

    def redo(self) -> bool:
        if not self._redo or self._running:
            return False
        cmd = self._redo.pop()
        self._replay(cmd.redo)
        self._undo.append(cmd)
        self.changed.emit()
        return True

    def _replay(self, fn: Callable[[], None]) -> None:
        self._running = True
        try:
            fn()
        finally:
            self._running = False
