"""app.core.history.History: the domain's one undo stack (push runs, undo/redo in order,
merge, capture into one step, no recording while replaying)."""

from __future__ import annotations

from app.core.history import History


class Append:
    def __init__(self, log: list, value: str) -> None:
        self.log, self.value, self.text = log, value, f"add {value}"

    def redo(self) -> None:
        self.log.append(self.value)

    def undo(self) -> None:
        self.log.remove(self.value)


class Typing(Append):
    """Merges with the next Typing (like consecutive keystrokes)."""

    def merge_with(self, newer) -> bool:
        if not isinstance(newer, Typing):
            return False
        self.log.remove(self.value)
        self.value = self.value + newer.value
        self.log.remove(newer.value)
        self.log.append(self.value)
        return True


def test_push_runs_and_undo_redo_walk_in_order():
    log: list = []
    h = History()
    changes = []
    h.changed.connect(lambda: changes.append(1))
    for v in "abc":
        h.push(Append(log, v))
    assert log == ["a", "b", "c"] and h.undo_text == "add c" and changes
    assert h.undo() and h.undo()
    assert log == ["a"] and h.redo_text == "add b"
    assert h.redo()
    assert log == ["a", "b"]
    h.push(Append(log, "d"))  # a new step clears the redo side
    assert not h.can_redo and h.texts() == ["add a", "add b", "add d"]


def test_merge_keeps_one_step():
    log: list = []
    h = History()
    h.push(Typing(log, "x"))
    h.push(Typing(log, "y"))
    assert log == ["xy"] and len(h) == 1
    h.undo()
    assert log == [] and not h.can_undo


def test_capture_collects_instead_of_recording():
    log: list = []
    h = History()
    with h.capture() as steps:
        h.push(Append(log, "inner"))
    assert log == ["inner"] and len(h) == 0 and [s.text for s in steps] == ["add inner"]


def test_pushes_during_replay_are_not_recorded():
    log: list = []
    h = History()

    class Nested(Append):
        def undo(self) -> None:
            super().undo()
            h.push(Append(log, "side effect"))

    h.push(Nested(log, "n"))
    h.undo()
    assert h.can_redo and len(h) == 0


def test_limit_drops_the_oldest():
    log: list = []
    h = History(limit=3)
    for v in "abcde":
        h.push(Append(log, v))
    assert h.texts() == ["add c", "add d", "add e"]


def test_discard_top_forgets_without_undoing():
    log: list = []
    h = History()
    h.push(Append(log, "a"))
    assert h.discard_top().text == "add a"
    assert log == ["a"] and not h.can_undo and h.discard_top() is None
