"""Pars marker tool: one click places a marker; the UI completes it with level, side and status
(``complete_pars_marker``) - pending until then. Defaults for the three can be preset on the
tool (``tool.level``, ``tool.side``, ``tool.status``)."""

from __future__ import annotations

from app.annotations.model import ParsMarker
from app.annotations.store import AnnotationStore
from app.annotations.tools.base import ClickTool
from app.vocabulary import Level, ParsStatus, Side


class ParsMarkerTool(ClickTool):
    id = "pars"
    title = "Pars marker"
    shortcut = "P"
    annotation_class = ParsMarker
    n_points = 1
    point_prompts = ("Pars: click the pars interarticularis",)

    level: Level | None = None
    side: Side | None = None
    status: ParsStatus | None = None

    def _fields(self) -> dict:
        return {"level": self.level, "side": self.side, "status": self.status}


def complete_pars_marker(store: AnnotationStore, annotation_id: str, level, side, status) -> ParsMarker:
    """Fill in a (pending) marker's level, side and status. Right after the click this is
    folded into the marker's creation (one undo step); otherwise it is its own undoable edit."""
    old = store[annotation_id]
    if not isinstance(old, ParsMarker):
        raise TypeError(f"annotation {annotation_id} is a {old.kind}, not a pars marker")
    new = old.touched(level=Level(level), side=Side(side), status=ParsStatus(status))
    if not store.replace_last_add(new):
        store.update(new)
    return new


def cancel_pending_marker(store: AnnotationStore, annotation_id: str) -> None:
    """The popup was cancelled: remove a still-pending marker (undoable)."""
    ann = store.get(annotation_id)
    if isinstance(ann, ParsMarker) and ann.pending and not store.discard_last_add(annotation_id):
        store.remove(annotation_id)
