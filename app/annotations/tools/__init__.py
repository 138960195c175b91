"""Annotation tools driven by plain ``PointerEvent``/``KeyEvent`` (no Qt), and their registry.

    registry = ToolRegistry.default()
    for spec in registry: spec.id, spec.title, spec.shortcut
    tool = registry.create("meyerding", store, ToolContext(...))
    tool.on_pointer(PointerEvent("press", (col, row))); ...

See app/annotations/tools/base.py for the event contract and docs/annotations.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from app.annotations.store import AnnotationStore
from app.annotations.tools.angle import AngleTool
from app.annotations.tools.arrow import ArrowTextTool, set_annotation_text
from app.annotations.tools.base import ClickTool, Tool, ToolContext
from app.annotations.tools.cobb import CobbTool
from app.annotations.tools.ellipse import EllipseRoiTool
from app.annotations.tools.freehand import FreehandRoiTool
from app.annotations.tools.length import LengthTool
from app.annotations.tools.level_label import LevelLabelTool, set_level_label
from app.annotations.tools.meyerding import MeyerdingTool
from app.annotations.tools.pars import ParsMarkerTool, cancel_pending_marker, complete_pars_marker
from app.annotations.tools.segment_motion import SegmentMotionTool, extension_tool, flexion_tool
from app.annotations.tools.select import SelectTool, hit_body, hit_handle
from app.annotations.tools.spinopelvic import SpinoPelvicTool

__all__ = [
    "AngleTool",
    "ArrowTextTool",
    "ClickTool",
    "CobbTool",
    "EllipseRoiTool",
    "FreehandRoiTool",
    "LengthTool",
    "LevelLabelTool",
    "MeyerdingTool",
    "ParsMarkerTool",
    "SegmentMotionTool",
    "SelectTool",
    "SpinoPelvicTool",
    "Tool",
    "ToolContext",
    "ToolRegistry",
    "ToolSpec",
    "cancel_pending_marker",
    "complete_pars_marker",
    "hit_body",
    "hit_handle",
    "set_annotation_text",
    "set_level_label",
]


@dataclass(frozen=True)
class ToolSpec:
    id: str
    title: str
    shortcut: str  # default keyboard shortcut (a single key)
    factory: Callable[..., Tool]  # factory(store, context) -> Tool


DEFAULT_TOOLS = (SelectTool, ParsMarkerTool, MeyerdingTool, EllipseRoiTool, FreehandRoiTool, LengthTool, AngleTool,
                 CobbTool, ArrowTextTool, LevelLabelTool, SpinoPelvicTool)


# the segment tool once per view (measured instability: flexion and extension)
SEGMENT_MOTION_TOOLS = (
    ToolSpec("motion-flexion", "Segment on flexion view", "D", flexion_tool),
    ToolSpec("motion-extension", "Segment on extension view", "X", extension_tool),
)


class ToolRegistry:
    """Tool ids, titles and default shortcuts for the UI (an instance, no global state)."""

    def __init__(self, specs: tuple[ToolSpec, ...] = ()):
        self._specs: dict[str, ToolSpec] = {}
        for s in specs:
            self.register(s)

    @classmethod
    def default(cls) -> ToolRegistry:
        specs = tuple(ToolSpec(t.id, t.title, t.shortcut, t) for t in DEFAULT_TOOLS)
        return cls(specs + SEGMENT_MOTION_TOOLS)

    def register(self, spec: ToolSpec) -> None:
        if spec.id in self._specs:
            raise ValueError(f"tool id {spec.id!r} is already registered")
        if spec.shortcut and any(s.shortcut.lower() == spec.shortcut.lower() for s in self._specs.values()):
            raise ValueError(f"shortcut {spec.shortcut!r} is already used")
        self._specs[spec.id] = spec

    def __iter__(self) -> Iterator[ToolSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def __getitem__(self, tool_id: str) -> ToolSpec:
        return self._specs[tool_id]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._specs)

    def by_shortcut(self, key: str) -> ToolSpec | None:
        for s in self._specs.values():
            if s.shortcut and s.shortcut.lower() == key.lower():
                return s
        return None

    def create(self, tool_id: str, store: AnnotationStore, context: ToolContext | None = None, **options) -> Tool:
        return self._specs[tool_id].factory(store, context, **options)
