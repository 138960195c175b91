"""QActions and menus built from the Qt-free registry (app.viewer.actions)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow

from app.viewer.actions import ACTIONS, menus


def build_actions(window: QMainWindow, handlers: dict[str, Callable]) -> dict[str, QAction]:
    """One QAction per registry entry, wired to ``handlers[id]``, added to its menu."""
    out: dict[str, QAction] = {}
    groups: dict[str, QActionGroup] = {}
    bar = window.menuBar()
    menu_objs = {name: bar.addMenu("&" + name) for name in menus()}
    for spec in ACTIONS:
        a = QAction(spec.title, window)
        a.setObjectName(spec.id)
        if spec.shortcut:
            a.setShortcut(QKeySequence(spec.shortcut))
        a.setCheckable(spec.checkable)
        if spec.group:
            g = groups.setdefault(spec.group, QActionGroup(window))
            g.setExclusive(True)
            g.addAction(a)
        fn = handlers.get(spec.id)
        if fn is not None:
            if spec.checkable:
                a.triggered.connect(lambda checked=False, f=fn: f(checked))
            else:
                a.triggered.connect(lambda checked=False, f=fn: f())
        else:
            a.setEnabled(False)
        window.addAction(a)  # shortcuts work while the menu is closed
        if spec.menu:
            menu_objs[spec.menu].addAction(a)
        out[spec.id] = a
    return out
