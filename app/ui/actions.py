"""QActions and menus built from the Qt-free registry (app.viewer.actions)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow

from app.viewer.actions import ACTIONS, ActionSpec, menus


def make_action(window: QMainWindow, spec: ActionSpec, handler: Callable[..., object] | None,
                shortcut: str | None = None) -> QAction:
    """One QAction for ``spec`` (``shortcut`` overrides the registry's key; "" = none), wired to
    ``handler`` (called with ``checked`` for checkable actions), disabled without one, and added
    to the window so its shortcut works while the menus are closed."""
    a = QAction(spec.title, window)
    a.setObjectName(spec.id)
    keys = [k for k in ((spec.shortcut if shortcut is None else shortcut), *spec.more_shortcuts) if k]
    a.setShortcuts([QKeySequence(k) for k in keys])
    a.setCheckable(spec.checkable)
    if spec.short:
        a.setIconText(spec.short)
    if handler is None:
        a.setEnabled(False)
    elif spec.checkable:
        a.triggered.connect(lambda checked=False, f=handler: f(checked))
    else:
        a.triggered.connect(lambda checked=False, f=handler: f())
    window.addAction(a)
    return a


def build_actions(window: QMainWindow, handlers: dict[str, Callable]) -> dict[str, QAction]:
    """One QAction per registry entry, wired to ``handlers[id]``, added to its menu."""
    out: dict[str, QAction] = {}
    groups: dict[str, QActionGroup] = {}
    bar = window.menuBar()
    menu_objs = {name: bar.addMenu("&" + name) for name in menus()}
    for spec in ACTIONS:
        a = make_action(window, spec, handlers.get(spec.id))
        if spec.group:
            g = groups.setdefault(spec.group, QActionGroup(window))
            g.setExclusive(True)
            g.addAction(a)
        if spec.menu:
            menu_objs[spec.menu].addAction(a)
        out[spec.id] = a
    return out
