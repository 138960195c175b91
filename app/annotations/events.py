"""Plain input events for the annotation tools (no Qt). The UI adapter translates its mouse
and key events into these; tests build them directly.

``point_px`` is (column, row) in image pixels with pixel centres at integer coordinates;
``point_lps`` is the same point in LPS mm when the view shows a slice of a volume (the tools
compute it themselves from their ``PixelSpace`` when it is None).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["POINTER_TYPES", "KeyEvent", "PointerEvent"]

POINTER_TYPES = ("press", "move", "release", "double_click")


@dataclass(frozen=True)
class PointerEvent:
    type: str  # "press" | "move" | "release" | "double_click"
    point_px: tuple[float, float]
    point_lps: tuple[float, float, float] | None = None
    button: str = "left"  # "left" | "right" | "middle" | "none" (a move with no button held)
    modifiers: frozenset[str] = field(default_factory=frozenset)  # {"shift", "control", "alt", "meta"}

    def __post_init__(self) -> None:
        if self.type not in POINTER_TYPES:
            raise ValueError(f"pointer event type must be one of {POINTER_TYPES}, got {self.type!r}")
        object.__setattr__(self, "point_px", (float(self.point_px[0]), float(self.point_px[1])))
        if self.point_lps is not None:
            object.__setattr__(self, "point_lps", tuple(float(v) for v in self.point_lps))
        object.__setattr__(self, "modifiers", frozenset(str(m).lower() for m in self.modifiers))

    @classmethod
    def from_scene(cls, type: str, scene_x: float, scene_y: float, button: str = "left",
                   modifiers: frozenset[str] = frozenset(), pixel_corner_origin: bool = True) -> PointerEvent:
        """Build an event from image-item coordinates of a view that draws pixel (0, 0) over
        [0, 1) x [0, 1) (``pixel_corner_origin``, e.g. a QGraphicsPixmapItem at (0, 0)): the
        pixel-centre convention of the tools needs (x - 0.5, y - 0.5)."""
        shift = 0.5 if pixel_corner_origin else 0.0
        return cls(type, (scene_x - shift, scene_y - shift), None, button, frozenset(modifiers))


@dataclass(frozen=True)
class KeyEvent:
    key: str  # "Delete", "Backspace", "Escape", "Return", "Enter", or a character ("p")
    modifiers: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "modifiers", frozenset(str(m).lower() for m in self.modifiers))
