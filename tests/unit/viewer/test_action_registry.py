"""The Edit and Annotate menus come from the Qt-free action registry, like the viewer's."""

from __future__ import annotations

from app.annotations.tools import ToolRegistry
from app.viewer import actions


def test_annotate_actions_are_one_per_tool_then_the_roi_roles():
    registry = ToolRegistry.default()
    specs = actions.annotate_actions(registry)
    tool_ids = [s.id.removeprefix("annotate.") for s in specs if s.group == "mode"]
    assert tool_ids == [t.id for t in registry]
    assert all(s.checkable and s.menu == "Annotate" for s in specs)
    roles = [s.id.rsplit(".", 1)[1] for s in specs if s.group == "roi_role"]
    assert roles == list(actions.ROI_ROLE_TITLES)


def test_edit_keys_are_listed_in_the_shortcuts_dialog():
    table = dict((what, keys) for keys, what in actions.shortcut_table())
    assert table["Undo"] == "Ctrl+Z"
    assert table["Redo"] == "Ctrl+Shift+Z, Ctrl+Y"
    assert table["Delete selected annotations"] == "Delete, Backspace"


def test_menu_actions_built_elsewhere_are_listed_with_their_keys():
    table = dict((what, keys) for keys, what in actions.shortcut_table())
    assert table["Query PACS..."] == actions.shortcut_of("pacs.query") == "Ctrl+Shift+F"
    assert table["Print report..."] == "Ctrl+P"
    assert actions.shortcut_of("no.such.action") == ""
