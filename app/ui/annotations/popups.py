"""Compact keyboard-friendly popups shown next to a freshly placed annotation.

* ``ParsMarkerPopup``: level (L1-S1), side (left/right), status. Up/Down (or Tab) move between
  the three rows, Left/Right change the choice in the row, number keys pick the n-th choice of
  the current row and move on, L/R set the side; Enter accepts (when all three are set), Esc
  cancels. Mouse clicks work too.
* ``TextPopup``: one line of text for an arrow; Enter accepts, Esc cancels.
* ``LevelLabelPopup``: the vertebra name for a level label (T11-S1 buttons; number keys,
  Left/Right, Enter; Esc cancels).

Every popup has explicit OK and Cancel buttons (Enter / Esc). Nothing is discarded silently: a
click elsewhere commits what was entered when it is complete, and otherwise keeps the popup
open and asks for the missing choice (OK saves, Cancel discards). Each popup emits
``accepted(...)`` or ``cancelled()`` exactly once, then closes.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QBoxLayout,
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.events import Event
from app.findings.model import Level, ParsStatus, Side

POPUP_QSS = """
QFrame#AnnotationPopup { background: #24272a; border: 1px solid #5a6066; border-radius: 4px; }
QFrame#AnnotationPopup QLabel { color: #b9c2ca; font-size: 8.5pt; background: transparent; }
QFrame#AnnotationPopup QLabel#rowLabel[current="true"] { color: #ffd24a; font-weight: bold; }
QFrame#AnnotationPopup QToolButton { background: #33373b; color: #e6e6e6; border: 1px solid #4c5257;
    border-radius: 3px; padding: 2px 7px; font-size: 9pt; }
QFrame#AnnotationPopup QToolButton:checked { background: #2f5f8f; border: 1px solid #8cc0f0; color: #ffffff; }
QFrame#AnnotationPopup QToolButton:hover { background: #41474c; }
QFrame#AnnotationPopup QLineEdit { background: #1a1c1e; color: #f0f0f0; border: 1px solid #5a87b5;
    border-radius: 2px; padding: 2px 4px; font-size: 9.5pt; }
QFrame#AnnotationPopup QLabel#hint { color: #7f8a93; font-size: 8pt; }
QFrame#AnnotationPopup QLabel#hint[asking="true"] { color: #ffb74d; font-weight: bold; }
QFrame#AnnotationPopup QPushButton { background: #35393b; color: #e0e0e0; border: 1px solid #4f5457;
    border-radius: 3px; padding: 2px 12px; }
QFrame#AnnotationPopup QPushButton:default { border: 1px solid #8cc0f0; }
"""

PARS_LEVELS = (Level.L1, Level.L2, Level.L3, Level.L4, Level.L5, Level.S1)
PARS_SIDES = (Side.LEFT, Side.RIGHT)
PARS_STATUSES = (ParsStatus.INTACT, ParsStatus.STRESS_REACTION, ParsStatus.INCOMPLETE_FRACTURE,
                 ParsStatus.COMPLETE_FRACTURE, ParsStatus.CHRONIC_NONUNION)
STATUS_SHORT = {
    ParsStatus.INTACT: "intact", ParsStatus.STRESS_REACTION: "stress reaction",
    ParsStatus.INCOMPLETE_FRACTURE: "incomplete fx", ParsStatus.COMPLETE_FRACTURE: "complete fx",
    ParsStatus.CHRONIC_NONUNION: "chronic non-union",
}
LEVEL_LABEL_CHOICES = ("T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1")


class _Popup(QFrame):
    """Base: ``accepted`` / ``cancelled`` are plain Python signals (app.core.events), so the
    callbacks never go through PySide's slot machinery."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup | Qt.WindowType.FramelessWindowHint)
        self.accepted = Event("accepted")
        self.cancelled = Event("cancelled")
        self.setObjectName("AnnotationPopup")
        self.setStyleSheet(POPUP_QSS)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.done = False

    def show_at(self, global_pos: QPoint) -> None:
        self.adjustSize()
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        pos = QPoint(global_pos.x() + 14, global_pos.y() + 14)
        if screen is not None:
            pos.setX(max(screen.left(), min(pos.x(), screen.right() - self.width())))
            pos.setY(max(screen.top(), min(pos.y(), screen.bottom() - self.height())))
        self.move(pos)
        self.show()
        self.raise_()
        self.activateWindow()
        self.setFocus(Qt.FocusReason.PopupFocusReason)

    def _finish(self) -> None:
        self.done = True
        self.close()

    # ---- OK / Cancel -------------------------------------------------------------------------
    def add_buttons(self, layout: QBoxLayout) -> None:
        """The explicit OK / Cancel row (Enter / Esc do the same)."""
        row = QHBoxLayout()
        row.addStretch(1)
        self.ok_button = QPushButton("OK")
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self._ok_clicked)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        for b in (self.ok_button, self.cancel_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            row.addWidget(b)
        layout.addLayout(row)

    def _ok_clicked(self, *_args: object) -> None:  # Qt slots return None
        self.accept()

    def can_accept(self) -> bool:  # pragma: no cover - every popup overrides it
        return True

    def accept(self) -> bool:  # pragma: no cover - every popup overrides it
        raise NotImplementedError

    def ask(self, text: str) -> None:
        """Say what is missing (the popup stays open)."""
        hint = getattr(self, "hint", None)
        if hint is not None:
            hint.setText(text)
            hint.setProperty("asking", "true")
            hint.style().unpolish(hint)
            hint.style().polish(hint)

    def cancel(self) -> None:
        if not self.done:
            self.done = True
            self.cancelled.emit()
        self.close()

    def closeEvent(self, event) -> None:
        if not self.done:
            if self.can_accept():
                self.accept()  # commit what was entered
            else:
                event.ignore()  # never discard silently: stay open and ask
                self.ask("Not saved yet: finish the choice and press OK, or Cancel to discard")
                return
        super().closeEvent(event)

    def hideEvent(self, event) -> None:  # hidden without closing (the window went away)
        if not self.done:
            if self.can_accept():
                self.accept()
            else:
                self.done = True
                self.cancelled.emit()
        super().hideEvent(event)


def _button(text: str, tip: str = "") -> QToolButton:
    b = QToolButton()
    b.setText(text)
    b.setCheckable(True)
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    if tip:
        b.setToolTip(tip)
    return b


class _ChoiceRow:
    def __init__(self, name: str, values: Sequence, texts: Sequence[str], grid: QGridLayout, row: int,
                 on_change) -> None:
        self.values = tuple(values)
        self.label = QLabel(name)
        self.label.setObjectName("rowLabel")
        grid.addWidget(self.label, row, 0)
        box = QHBoxLayout()
        box.setSpacing(3)
        self.group = QButtonGroup()
        self.group.setExclusive(True)
        self.buttons = []
        for i, (_v, t) in enumerate(zip(values, texts, strict=True)):
            b = _button(t, f"{i + 1}")
            self.group.addButton(b, i)
            box.addWidget(b)
            self.buttons.append(b)
        box.addStretch(1)
        grid.addLayout(box, row, 1)
        self.group.idClicked.connect(lambda _i: on_change())

    @property
    def value(self):
        i = self.group.checkedId()
        return None if i < 0 else self.values[i]

    def set_value(self, value) -> None:
        if value in self.values:
            self.buttons[self.values.index(value)].setChecked(True)

    def set_index(self, i: int) -> None:
        if 0 <= i < len(self.values):
            self.buttons[i].setChecked(True)

    def step(self, delta: int) -> None:
        i = self.group.checkedId()
        n = len(self.values)
        self.set_index(((i if i >= 0 else (-1 if delta > 0 else 0)) + delta) % n)

    def set_current(self, on: bool) -> None:
        self.label.setProperty("current", "true" if on else "false")
        self.label.style().unpolish(self.label)
        self.label.style().polish(self.label)


class ParsMarkerPopup(_Popup):
    """Level, side and status of a pars marker. ``accepted(Level, Side, ParsStatus)``."""

    def __init__(self, parent: QWidget | None = None, level: Level | None = None, side: Side | None = None,
                 status: ParsStatus | None = None, title: str = "Pars marker", with_status: bool = True) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(4)
        lay.addWidget(QLabel(f"<b>{title}</b>"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        lay.addLayout(grid)
        self.rows = [
            _ChoiceRow("Level", PARS_LEVELS, [lv.value for lv in PARS_LEVELS], grid, 0, self._changed),
            _ChoiceRow("Side", PARS_SIDES, ["Left", "Right"], grid, 1, self._changed),
        ]
        if with_status:
            self.rows.append(_ChoiceRow("Status", PARS_STATUSES, [STATUS_SHORT[s] for s in PARS_STATUSES], grid, 2,
                                        self._changed))
        self.hint = QLabel("↑↓ row · ←→ or 1-6 choose · L/R side · Enter OK · Esc cancel")
        self.hint.setObjectName("hint")
        lay.addWidget(self.hint)
        self.add_buttons(lay)
        # strict=False: an oedema ROI's pars popup has no status row, its status is dropped
        for row, v in zip(self.rows, (level, side, status), strict=False):
            row.set_value(v)
        self.current_row = len(self.rows) - 1
        for i, row in enumerate(self.rows):  # start at the first row without a value
            if row.value is None:
                self.current_row = i
                break
        self._mark_current()

    # ---- values ----------------------------------------------------------------------------
    @property
    def level(self) -> Level | None:
        return self.rows[0].value

    @property
    def side(self) -> Side | None:
        return self.rows[1].value

    @property
    def status(self) -> ParsStatus | None:
        return self.rows[2].value if len(self.rows) > 2 else None

    @property
    def complete(self) -> bool:
        return all(r.value is not None for r in self.rows)

    def can_accept(self) -> bool:
        return self.complete

    def _changed(self) -> None:
        self.hint.setText("↑↓ row · ←→ or 1-6 choose · L/R side · Enter OK · Esc cancel")

    def _mark_current(self) -> None:
        for i, r in enumerate(self.rows):
            r.set_current(i == self.current_row)

    def move_row(self, delta: int) -> None:
        self.current_row = (self.current_row + delta) % len(self.rows)
        self._mark_current()

    def accept(self) -> bool:
        if not self.complete:
            missing = [n for n, r in zip(("level", "side", "status"), self.rows, strict=False)  # status row optional
                       if r.value is None]
            self.ask("choose the " + " and ".join(missing) + ", then OK (Cancel discards)")
            for i, r in enumerate(self.rows):
                if r.value is None:
                    self.current_row = i
                    self._mark_current()
                    break
            return False
        self.done = True
        self.accepted.emit(self.level, self.side, self.status)
        self.close()
        return True

    # ---- keys ------------------------------------------------------------------------------
    def keyPressEvent(self, event) -> None:
        k = event.key()
        row = self.rows[self.current_row]
        if k in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.accept()
        elif k == Qt.Key.Key_Escape:
            self.cancel()
        elif k in (Qt.Key.Key_Up, Qt.Key.Key_Backtab):
            self.move_row(-1)
        elif k in (Qt.Key.Key_Down, Qt.Key.Key_Tab):
            self.move_row(1)
        elif k == Qt.Key.Key_Left:
            row.step(-1)
        elif k == Qt.Key.Key_Right:
            row.step(1)
        elif Qt.Key.Key_1 <= k <= Qt.Key.Key_9:
            i = k - Qt.Key.Key_1
            if i < len(row.values):
                row.set_index(i)
                if self.current_row < len(self.rows) - 1:
                    self.move_row(1)
        elif k in (Qt.Key.Key_L, Qt.Key.Key_R):
            self.rows[1].set_value(Side.LEFT if k == Qt.Key.Key_L else Side.RIGHT)
        else:
            super().keyPressEvent(event)


class TextPopup(_Popup):
    """One line of text. ``accepted(str)``."""

    def __init__(self, parent: QWidget | None = None, title: str = "Arrow text", text: str = "") -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(4)
        lay.addWidget(QLabel(f"<b>{title}</b>"))
        self.edit = QLineEdit(text)
        self.edit.setMinimumWidth(220)
        self.edit.returnPressed.connect(self._ok_clicked)
        lay.addWidget(self.edit)
        self.hint = QLabel("Enter OK · Esc cancel")
        self.hint.setObjectName("hint")
        lay.addWidget(self.hint)
        self.add_buttons(lay)
        self.setFocusProxy(self.edit)

    def can_accept(self) -> bool:
        return bool(self.edit.text().strip())

    def accept(self) -> bool:
        if not self.can_accept():
            self.ask("type the text, then OK (Cancel discards the arrow)")
            return False
        self.done = True
        self.accepted.emit(self.edit.text())
        self.close()
        return True

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.cancel()
        else:
            super().keyPressEvent(event)


SEGMENT_UPPER_CHOICES = ("L1", "L2", "L3", "L4", "L5")  # the upper vertebra of a motion segment


class LevelLabelPopup(_Popup):
    """Name a vertebra. ``accepted(str)`` e.g. "L5". ``choices`` and ``title`` serve other
    level questions too (the upper vertebra of a flexion/extension segment)."""

    def __init__(self, parent: QWidget | None = None, level: str | None = None,
                 choices: tuple[str, ...] = LEVEL_LABEL_CHOICES,
                 title: str = "<b>Vertebra</b> (the other labels follow)") -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(4)
        lay.addWidget(QLabel(title))
        grid = QGridLayout()
        lay.addLayout(grid)
        self.row = _ChoiceRow("", choices, choices, grid, 0, lambda: None)
        self.row.set_value(level if level in choices else ("L5" if "L5" in choices else choices[-1]))
        self.hint = QLabel(f"←→ or 1-{len(choices)} choose · Enter OK · Esc cancel")
        self.hint.setObjectName("hint")
        lay.addWidget(self.hint)
        self.add_buttons(lay)

    @property
    def level(self) -> str | None:
        return self.row.value

    def can_accept(self) -> bool:
        return self.level is not None

    def accept(self) -> bool:
        if self.level is None:
            self.ask("choose the vertebra, then OK")
            return False
        self.done = True
        self.accepted.emit(self.level)
        self.close()
        return True

    def keyPressEvent(self, event) -> None:
        k = event.key()
        if k in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.accept()
        elif k == Qt.Key.Key_Escape:
            self.cancel()
        elif k == Qt.Key.Key_Left:
            self.row.step(-1)
        elif k == Qt.Key.Key_Right:
            self.row.step(1)
        elif Qt.Key.Key_1 <= k <= Qt.Key.Key_9:
            self.row.set_index(k - Qt.Key.Key_1)
        else:
            super().keyPressEvent(event)
