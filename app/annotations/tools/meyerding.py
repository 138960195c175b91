"""Meyerding slip tool.

Clicks, in order (``tool.prompt`` says which is next):

1. S1 postero-superior corner;  2. S1 antero-superior corner (together: the S1 superior endplate);
3. L5 postero-inferior corner;  (technique 2 only: 4. a higher point on the L5 posterior wall).

The slip is added to the store as soon as these are placed (one undo step). While the mouse
moves before the last of them, ``tool.preview`` is a ``MeyerdingSlip`` whose ``percent_slip``,
``direction`` and ``grade`` follow the pointer (live measurement).

Then, when ``measure_slip_angle`` is True (default), up to three optional clicks add the Boxall
slip angle: two points on the L5 inferior endplate and one lower point on the S1 posterior
border (the border runs from the S1 postero-superior corner through it). They are folded into
the same undo step. Return/Enter, Escape, a right click or a double click ends this phase early
(an incomplete slip-angle set is dropped); so does switching tools or images.
"""

from __future__ import annotations

import dataclasses

from app.annotations.events import KeyEvent, PointerEvent
from app.annotations.model import (
    L5_EP_1,
    L5_EP_2,
    L5_PI,
    L5_WALL_TOP,
    S1_AS,
    S1_PS,
    S1_WALL,
    MeyerdingSlip,
    now_iso,
)
from app.annotations.store import AnnotationStore
from app.annotations.tools.base import FINISH_KEYS, Tool, ToolContext
from app.vocabulary import Level, SlipTechnique

_PROMPTS = {
    S1_PS: "click the {lower} postero-superior corner",
    S1_AS: "click the {lower} antero-superior corner (end of the {lower} superior endplate)",
    L5_PI: "click the {upper} postero-inferior corner",
    L5_WALL_TOP: "click a higher point on the {upper} posterior wall",
    L5_EP_1: "optional: click the {upper} inferior endplate, first point (Enter to finish)",
    L5_EP_2: "optional: click the {upper} inferior endplate, second point",
    S1_WALL: "optional: click a lower point on the {lower} posterior border",
}
_ANGLE_ROLES = (L5_EP_1, L5_EP_2, S1_WALL)


class MeyerdingTool(Tool):
    id = "meyerding"
    title = "Meyerding slip"
    shortcut = "M"

    def __init__(self, store: AnnotationStore, context: ToolContext | None = None,
                 level: Level = Level.L5, technique: SlipTechnique = SlipTechnique.POSTERIOR_CORNER_PERPENDICULAR,
                 measure_slip_angle: bool = True):
        super().__init__(store, context)
        self.level = Level(level)
        self.technique = SlipTechnique(technique)
        self.measure_slip_angle = measure_slip_angle
        self._points: list[tuple[float, float]] = []
        self._roles: list[str] = []
        self._press = False
        self._ignore_release = False
        self._active_id: str | None = None  # committed slip receiving optional points
        self._active_roles: tuple[str, ...] = ()  # its roles as last written by this tool
        store.events.removed.connect(self._on_removed)  # held weakly: no leak

    def _on_removed(self, annotation) -> None:
        if annotation.id == self._active_id:  # undone or deleted: start over
            self._reset()
            self._set_preview(None)

    # ------------------------------------------------------------------ state
    @property
    def mandatory_roles(self) -> tuple[str, ...]:
        base = (S1_PS, S1_AS, L5_PI)
        return base + ((L5_WALL_TOP,) if self.technique is SlipTechnique.POSTERIOR_WALL_TANGENT else ())

    @property
    def all_roles(self) -> tuple[str, ...]:
        return self.mandatory_roles + (_ANGLE_ROLES if self.measure_slip_angle else ())

    def _sync_active(self) -> None:
        """Forget the committed slip if it left the store (undo) or was changed elsewhere."""
        if self._active_id is not None:
            ann = self.store.get(self._active_id)
            if not isinstance(ann, MeyerdingSlip) or tuple(ann.roles) != self._active_roles:
                self._reset()

    @property
    def next_role(self) -> str | None:
        self._sync_active()
        roles = self.all_roles
        return roles[len(self._roles)] if len(self._roles) < len(roles) else None

    @property
    def busy(self) -> bool:
        self._sync_active()
        return bool(self._points)

    @property
    def prompt(self) -> str:
        role = self.next_role
        if role is None:
            return ""
        below = self.level.below.value if self.level.below else "?"
        return "Meyerding: " + _PROMPTS[role].format(upper=self.level.value, lower=below)

    @property
    def active_annotation(self) -> MeyerdingSlip | None:
        """The committed slip still receiving optional slip-angle points, if any."""
        self._sync_active()
        ann = None if self._active_id is None else self.store.get(self._active_id)
        return ann if isinstance(ann, MeyerdingSlip) else None

    # ------------------------------------------------------------------ building
    def _build(self, points, roles) -> MeyerdingSlip | None:
        if not points:
            return None
        base = self.active_annotation
        if base is not None:
            pts = tuple((float(q[0]), float(q[1])) for q in points)
            return dataclasses.replace(base, points_px=pts, points_lps=self.context.space.points_lps(pts),
                                       roles=tuple(roles), modified=now_iso())
        try:
            return self.context.make(MeyerdingSlip, points, roles=tuple(roles), level=self.level,
                                     technique=self.technique)
        except ValueError:
            return None

    def _reset(self) -> None:
        self._points = []
        self._roles = []
        self._press = False
        self._ignore_release = False
        self._active_id = None
        self._active_roles = ()

    def finish(self) -> None:
        """End optional point entry; drop an incomplete slip-angle set."""
        ann = self.active_annotation
        if ann is not None:
            keep = [i for i, r in enumerate(ann.roles) if r not in _ANGLE_ROLES or ann.has(*_ANGLE_ROLES)]
            if len(keep) != len(ann.roles):
                trimmed = self._build([self._points[i] for i in keep], [ann.roles[i] for i in keep])
                if trimmed is not None and not self.store.replace_last_add(trimmed):
                    self.store.update(trimmed)
        self._reset()
        self._set_preview(None)

    def cancel(self) -> None:
        if self._active_id is not None:
            self.finish()  # the slip itself is committed: keep it
        else:
            super().cancel()

    def deactivate(self) -> None:
        self.cancel()

    # ------------------------------------------------------------------ events
    def _pointer(self, ev: PointerEvent) -> bool:
        self._sync_active()
        p = ev.point_px
        role = self.next_role
        if ev.type == "press":
            if ev.button == "right":
                return self._right_press_cancels(ev)
            if ev.button != "left" or role is None:
                return False
            self._press = True
            self._set_preview(self._build([*self._points, p], [*self._roles, role]))
            return True
        if ev.type == "move":
            if role is None or not (self._points or self._press):
                return False
            self._set_preview(self._build([*self._points, p], [*self._roles, role]))
            return True
        if ev.type == "double_click":
            self._ignore_release = True
            if self._active_id is not None:
                self.finish()
            return True
        if ev.type == "release":
            if ev.button != "left":
                return False
            if self._ignore_release:
                self._ignore_release = False
                self._press = False
                return True
            if not self._press or role is None:
                return False
            self._press = False
            self._place(p, role)
            return True
        return False

    def _place(self, p: tuple[float, float], role: str) -> None:
        self._points.append(p)
        self._roles.append(role)
        ann = self._build(self._points, self._roles)
        if ann is None:
            self._points.pop()
            self._roles.pop()
            return
        n_mandatory = len(self.mandatory_roles)
        if len(self._points) < n_mandatory:
            self._set_preview(ann)
            return
        if len(self._points) == n_mandatory:
            self._commit_new(ann)
            self._active_id = ann.id
        else:
            if not self.store.replace_last_add(ann):
                self.store.update(ann)
            self._set_preview(None)
        self._active_roles = tuple(ann.roles)
        if self.next_role is None:
            self._reset()

    def _key(self, ev: KeyEvent) -> bool:
        if ev.key.lower() in FINISH_KEYS and self._active_id is not None:
            self.finish()
            return True
        return False
