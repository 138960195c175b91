"""After "Submit read": the reference read's pars findings drawn on the images in their own
colour (magenta, labelled REF) next to the trainee's annotations; each set can be hidden.

The positions come from the reference read's provenance (annotation references with image
pixels, and patient LPS points when drawn on CT/MR): authored cases keep the author's markers,
generated cases carry a marker on the oblique that shows each lesion's side."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor

from app.annotations.model import AnnotationDataError, ParsMarker
from app.findings.model import ParsStatus, StudyFindings
from app.ui.annotations.items import ParsMarkerItem
from app.viewer.annotation_view import ViewMapper

REFERENCE_COLOUR = QColor(255, 80, 220)


class ReferenceMarkerItem(ParsMarkerItem):
    def colour(self):
        return REFERENCE_COLOUR

    def label_text(self) -> str:
        return "REF " + super().label_text()


def reference_markers(read: StudyFindings) -> list[ParsMarker]:
    """One marker per provenance point of each abnormal reference pars finding."""
    out = []
    for p in read.pars:
        if p.status is ParsStatus.INTACT:
            continue
        for ref in p.provenance:
            for i, px in enumerate(ref.points_px):
                lps = (ref.points_lps[i],) if i < len(ref.points_lps) else ()
                try:
                    out.append(ParsMarker(id=f"ref-{ref.annotation_id}-{i}", series_instance_uid=ref.series_instance_uid,
                                          sop_instance_uid=ref.sop_instance_uid, frame=ref.frame, points_px=(px,),
                                          points_lps=lps, level=p.level, side=p.side, status=p.status))
                except AnnotationDataError:
                    continue
    return out


class ReferenceOverlay:
    """Reference items in every view of ``window.grid``; ``set_visible`` / ``set_trainee_visible``
    toggle the two reads."""

    def __init__(self, window: Any):
        self.window = window
        self.items: list[ReferenceMarkerItem] = []

    def show(self, reference: StudyFindings) -> int:
        self.clear()
        ws = self.window.annotations
        markers = reference_markers(reference)
        for view in self.window.grid.all_views:
            for m in markers:
                self.items.append(ReferenceMarkerItem(m, ViewMapper(view, ws.frame_of_reference), view.annotation_layer))
        ws.refresh_views()
        return len(markers)

    def set_visible(self, on: bool) -> None:
        for it in self.items:
            it.setVisible(on)

    def set_trainee_visible(self, on: bool) -> None:
        for view in self.window.grid.all_views:
            for it in self.window.annotations.items_for(view):
                it.setVisible(on)

    def clear(self) -> None:
        for it in self.items:
            if it.scene() is not None:
                it.scene().removeItem(it)
        self.items = []
