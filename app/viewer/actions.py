"""Headless registry of the workstation's actions: id, title, shortcut, menu. ``app.ui`` builds
QActions from it (viewer actions, Edit, Annotate) and the Help > Keyboard shortcuts dialog lists
it, so there is one source of truth."""

from __future__ import annotations

from dataclasses import dataclass

from app.annotations.tools import ToolRegistry


@dataclass(frozen=True)
class ActionSpec:
    id: str
    title: str
    shortcut: str = ""
    menu: str = ""
    checkable: bool = False
    group: str = ""
    short: str = ""  # toolbar text
    more_shortcuts: tuple[str, ...] = ()  # further keys for the same action

    @property
    def label(self) -> str:
        return self.short or self.title


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("file.open_folder", "Open folder...", "Ctrl+O", "File", short="Open"),
    ActionSpec("file.open_files", "Open files...", "Ctrl+Shift+O", "File"),
    ActionSpec("file.start_page", "Sample cases and recent studies...", "Ctrl+Shift+S", "File"),
    ActionSpec("file.close_study", "Close study", "Ctrl+W", "File"),
    ActionSpec("file.quit", "Quit", "Ctrl+Q", "File"),
    ActionSpec("layout.1x1", "Layout 1x1", "Alt+1", "Layout", True, "layout", short="1x1"),
    ActionSpec("layout.1x2", "Layout 1x2", "Alt+2", "Layout", True, "layout", short="1x2"),
    ActionSpec("layout.2x2", "Layout 2x2", "Alt+3", "Layout", True, "layout", short="2x2"),
    ActionSpec("layout.pars", "Pars hanging protocol", "Alt+P", "Layout", True, "layout", short="Pars"),
    ActionSpec("mode.wl", "Window/level mode", "W", "Tools", True, "mode", short="W/L"),
    ActionSpec("mode.pan", "Pan mode", "P", "Tools", True, "mode", short="Pan"),
    ActionSpec("mode.zoom", "Zoom mode", "Z", "Tools", True, "mode", short="Zoom"),
    ActionSpec("mode.crosshair", "Crosshair mode", "C", "Tools", True, "mode", short="Cross"),
    ActionSpec("mode.oblique", "Tilt oblique plane mode", "O", "Tools", True, "mode", short="Tilt"),
    ActionSpec("view.preset_bone", "Preset: CT bone (W 2000 / L 500)", "1", "Image", short="Bone"),
    ActionSpec("view.preset_soft", "Preset: CT soft tissue (W 400 / L 40)", "2", "Image", short="Soft"),
    ActionSpec("view.preset_auto", "Preset: auto (1-99 percentile)", "3", "Image", short="Auto"),
    ActionSpec("view.preset_default", "Preset: DICOM default window / VOI LUT", "4", "Image"),
    ActionSpec("view.invert", "Invert", "I", "Image", short="Invert"),
    ActionSpec("view.rotate_cw", "Rotate 90 clockwise", "R", "Image", short="Rot"),
    ActionSpec("view.rotate_ccw", "Rotate 90 counter-clockwise", "Shift+R", "Image"),
    ActionSpec("view.flip_h", "Flip horizontal", "H", "Image", short="Flip"),
    ActionSpec("view.flip_v", "Flip vertical", "V", "Image"),
    ActionSpec("view.zoom_in", "Zoom in", "+", "Image"),
    ActionSpec("view.zoom_out", "Zoom out", "-", "Image"),
    ActionSpec("view.reset", "Reset view", "Space", "Image", short="Reset"),
    ActionSpec("view.cine", "Cine play/pause", "Shift+C", "Image", True, short="Cine"),
    ActionSpec("mpr.axial", "MPR axial", "Ctrl+1", "MPR", short="Ax"),
    ActionSpec("mpr.sagittal", "MPR sagittal", "Ctrl+2", "MPR", short="Sag"),
    ActionSpec("mpr.coronal", "MPR coronal", "Ctrl+3", "MPR", short="Cor"),
    ActionSpec("mpr.tilt_left", "Tilt plane left (about vertical axis)", "[", "MPR"),
    ActionSpec("mpr.tilt_right", "Tilt plane right (about vertical axis)", "]", "MPR"),
    ActionSpec("mpr.tilt_up", "Tilt plane up (about horizontal axis)", "Shift+[", "MPR"),
    ActionSpec("mpr.tilt_down", "Tilt plane down (about horizontal axis)", "Shift+]", "MPR"),
    ActionSpec("mpr.slab_mip", "Thick slab: MIP 10 mm (toggle)", "M", "MPR", True, short="MIP"),
    ActionSpec("mpr.slab_avg", "Thick slab: average 10 mm (toggle)", "Shift+M", "MPR", True),
    ActionSpec("view.sync_scroll", "Synchronised scrolling", "S", "View", True, short="Sync"),
    ActionSpec("view.overlays", "Show overlays", "Ctrl+T", "View", True),
    ActionSpec("view.anonymise", "Anonymised display", "Ctrl+Shift+A", "View", True),
    ActionSpec("view.reference_lines", "Reference lines", "Ctrl+L", "View", True),
    ActionSpec("view.browser", "Study browser", "Ctrl+B", "View", True),
    ActionSpec("help.shortcuts", "Keyboard shortcuts", "F1", "Help"),
    ActionSpec("help.about", "About Isthmus", "", "Help"),
)

# Edit menu (app.ui.annotations.workspace): one history for drawings and table edits
EDIT_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("edit.undo", "Undo", "Ctrl+Z", "Edit"),
    ActionSpec("edit.redo", "Redo", "Ctrl+Shift+Z", "Edit", more_shortcuts=("Ctrl+Y",)),
    ActionSpec("edit.delete", "Delete selected annotations", "Delete", "Edit", more_shortcuts=("Backspace",)),
)

# Menu actions that their own modules build (app/ui/report, app/ui/pacs): listed here so the
# shortcuts dialog shows them and one check keeps every key unique. The PACS query is not on
# Ctrl+Shift+Q: one slip from Ctrl+Q (Quit).
OTHER_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("report.print", "Print report...", "Ctrl+P", "File"),
    ActionSpec("pacs.query", "Query PACS...", "Ctrl+Shift+F", "File"),
)


def shortcut_of(action_id: str) -> str:
    """The key of a registered action (ACTIONS, EDIT_ACTIONS or OTHER_ACTIONS); "" if none."""
    spec = next((a for a in ACTIONS + EDIT_ACTIONS + OTHER_ACTIONS if a.id == action_id), None)
    return spec.shortcut if spec else ""


# Annotate menu: one checkable action per tool (in the viewer's exclusive "mode" group), then the ROI role
TOOL_SHORT = {"select": "Select", "pars": "Marker", "meyerding": "Slip", "ellipse": "Ellipse", "freehand": "Freehand",
              "length": "Length", "angle": "Angle", "cobb": "Cobb", "arrow-text": "Arrow", "level-label": "Level"}
TOOLBAR_ORDER = ("select", "pars", "meyerding", None, "ellipse", "freehand", None, "length", "angle", "cobb",
                 "arrow-text", "level-label")  # None: a separator
ROI_ROLE_TITLES = {"generic": "ROI: generic", "edema": "ROI: oedema (pars)", "reference": "ROI: reference marrow"}


def annotate_actions(registry: ToolRegistry) -> tuple[ActionSpec, ...]:
    """The Annotate menu of ``registry``'s tools; shortcuts are the tools' default keys (the
    window moves one that is taken to Shift/Alt+key)."""
    tools = tuple(ActionSpec(f"annotate.{t.id}", t.title, t.shortcut, "Annotate", True, "mode",
                             TOOL_SHORT.get(t.id, t.title)) for t in registry)
    roles = tuple(ActionSpec(f"annotate.roi_role.{role}", title, "", "Annotate", True, "roi_role")
                  for role, title in ROI_ROLE_TITLES.items())
    return tools + roles


# Built into the views (not menu actions) but listed in the shortcuts dialog.
VIEW_KEYS: tuple[tuple[str, str], ...] = (
    ("Wheel / Up / Down", "Previous / next slice"),
    ("Page Up / Page Down", "Ten slices back / forward"),
    ("Home / End", "First / last slice"),
    ("Ctrl + wheel", "Zoom"),
    ("Middle drag", "Pan (any mode)"),
    ("Right drag", "Window/level (any mode)"),
    ("Left drag", "The current mode (window/level, pan, zoom, crosshair, tilt)"),
    ("Double click", "Single view of this cell / back"),
)


def by_id() -> dict[str, ActionSpec]:
    return {a.id: a for a in ACTIONS}


def menus() -> list[str]:
    seen: list[str] = []
    for a in ACTIONS:
        if a.menu and a.menu not in seen:
            seen.append(a.menu)
    return seen


def shortcut_table() -> list[tuple[str, str]]:
    """(keys, what) rows for the Help > Keyboard shortcuts dialog."""
    rows = [(", ".join((a.shortcut, *a.more_shortcuts)), a.title) for a in ACTIONS + EDIT_ACTIONS + OTHER_ACTIONS
            if a.shortcut]
    return rows + list(VIEW_KEYS)
