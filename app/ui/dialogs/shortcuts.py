"""Help > Keyboard shortcuts: generated from the actions registry (app.viewer.actions)."""

from __future__ import annotations

from app.ui.dialogs.table_dialog import TableDialog
from app.viewer.actions import shortcut_table


class ShortcutsDialog(TableDialog):
    def __init__(self, parent=None) -> None:
        super().__init__("Keyboard shortcuts", ["Keys", "Action"], shortcut_table(), parent=parent)
        self.resize(560, 640)
