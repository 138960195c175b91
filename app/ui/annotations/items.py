"""One QGraphicsItem class per annotation kind (``ITEM_CLASSES``: kind -> class).

Items are children of ``SliceView.annotation_layer`` (image pixel coordinates). Each item asks
its ``ViewMapper`` at paint time where its annotation shows in the view, so slice changes,
MPR re-orientation, crosshair jumps and rotation/flip need no bookkeeping: the view repaints
and the item follows (or paints nothing when its points are not on the displayed plane).

Geometry is drawn in image coordinates with cosmetic pens (thin at any zoom); text and handles
are drawn in viewport pixels (readable, fixed size, with a shadow). Items never take mouse
events: the tools do all hit-testing on the Qt-free annotation data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPolygonF, QTransform
from PySide6.QtWidgets import QGraphicsItem

from app.annotations.model import (
    L5_EP_1,
    L5_EP_2,
    L5_PI,
    L5_WALL_TOP,
    S1_AS,
    S1_PS,
    S1_WALL,
    Annotation,
    LevelLabel,
    MeyerdingSlip,
    ParsMarker,
)
from app.ui.annotations import style
from app.viewer.annotation_view import ViewMapper

Point = tuple[float, float]
_BIG = 1.0e5


class AnnotationItem(QGraphicsItem):
    """Base item: draws ``annotation`` as mapped by ``mapper``; subclasses implement ``draw``."""

    kind = ""

    def __init__(self, annotation: Annotation, mapper: ViewMapper, parent: QGraphicsItem | None = None,
                 is_selected: Callable[[str], bool] = lambda _id: False, preview: bool = False,
                 extra_text: Callable[[Annotation], str] = lambda _a: "") -> None:
        super().__init__(parent)
        self.annotation = annotation
        self.mapper = mapper
        self.preview = preview
        self._is_selected = is_selected
        self._extra_text = extra_text
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setAcceptHoverEvents(False)
        self.setZValue(20 if preview else 10)
        self.last_points: list[Point] | None = None  # where it was last painted (tests, screenshots)

    # ---- data ------------------------------------------------------------------------------
    def set_annotation(self, annotation: Annotation) -> None:
        self.annotation = annotation
        self.update()

    def points(self) -> list[Point] | None:
        if self.preview:
            return [tuple(p) for p in self.annotation.points_px]
        return self.mapper.points(self.annotation)

    @property
    def selected(self) -> bool:
        return (not self.preview) and self._is_selected(self.annotation.id)

    @property
    def native(self) -> bool:
        """Drawn on this image (else shown here through the shared frame of reference)."""
        return self.preview or self.mapper.editable(self.annotation, self.last_points)

    def colour(self):
        return style.KIND_COLOURS.get(self.kind, style.SELECTED)

    def label_text(self) -> str:
        t = self.annotation.display_text
        extra = self._extra_text(self.annotation)
        return t + ("\n" + extra if extra else "")

    # ---- QGraphicsItem ---------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return QRectF(-_BIG, -_BIG, 2 * _BIG, 2 * _BIG)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        pts = self.points()
        self.last_points = pts
        if not pts:
            return
        world = QTransform(painter.worldTransform())
        style.BOUNDS[0] = QRectF(widget.rect()) if widget is not None else None
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        try:
            self.draw(painter, [QPointF(*p) for p in pts], world)
        finally:
            painter.restore()

    # ---- drawing helpers -------------------------------------------------------------------
    def draw(self, p: QPainter, pts: list[QPointF], world: QTransform) -> None:  # pragma: no cover
        raise NotImplementedError

    def _pens(self, colour=None):
        colour = colour or self.colour()
        width = style.LINE_WIDTH + (0.8 if self.selected else 0.0)
        return style.shadow_pen(width), style.pen(colour, width, dashed=self.preview or not self.native)

    def _lines(self, p: QPainter, segments: Sequence[tuple[QPointF, QPointF]], colour=None) -> None:
        shadow, main = self._pens(colour)
        for pn in (shadow, main):
            p.setPen(pn)
            for a, b in segments:
                p.drawLine(a, b)

    def _path(self, p: QPainter, path: QPainterPath, colour=None) -> None:
        shadow, main = self._pens(colour)
        p.setBrush(Qt.BrushStyle.NoBrush)
        for pn in (shadow, main):
            p.setPen(pn)
            p.drawPath(path)

    def _device(self, p: QPainter, world: QTransform, pts: Sequence[QPointF]) -> list[QPointF]:
        """Switch the painter to viewport pixels; returns the points mapped there."""
        p.resetTransform()
        return [world.map(q) for q in pts]

    def _handles(self, p: QPainter, dev: Sequence[QPointF]) -> None:
        if self.selected or self.preview:
            for q in dev:
                style.handle(p, q)

    def _label(self, p: QPainter, anchor: QPointF, colour=None, dx: float = 10.0, dy: float = -8.0,
               text: str | None = None, bold: bool = False, avoid: Sequence[QPointF] | None = None,
               pad: float = 4.0) -> None:
        s = self.label_text() if text is None else text
        if s:
            rect = None
            if avoid:
                xs, ys = [q.x() for q in avoid], [q.y() for q in avoid]
                rect = QRectF(min(xs) - pad, min(ys) - pad, max(xs) - min(xs) + 2 * pad, max(ys) - min(ys) + 2 * pad)
            style.text(p, QPointF(anchor.x() + dx, anchor.y() + dy), s, colour or self.colour(), bold=bold, avoid=rect)


def _offset_away(anchor: QPointF, others: Sequence[QPointF], dist: float = 14.0) -> tuple[float, float]:
    """A label offset from ``anchor`` pointing away from the centroid of ``others``."""
    if not others:
        return dist, -dist
    cx = sum(q.x() for q in others) / len(others)
    cy = sum(q.y() for q in others) / len(others)
    vx, vy = anchor.x() - cx, anchor.y() - cy
    n = math.hypot(vx, vy)
    if n < 1e-6:
        return dist, -dist
    return vx / n * dist, vy / n * dist


# =========================================================================== kinds

class ParsMarkerItem(AnnotationItem):
    kind = "pars-marker"
    RADIUS = 7.0

    def colour(self):
        a = self.annotation
        return style.STATUS_COLOURS.get(getattr(a, "status", None), style.STATUS_COLOURS[None])

    def label_text(self) -> str:
        a: ParsMarker = self.annotation
        if a.pending:
            return "pars ?"
        return f"{a.level.value} {a.side.value[0].upper()}  {a.status.value.replace('_', ' ')}"

    def draw(self, p, pts, world):
        c = self._device(p, world, pts)[0]
        r = self.RADIUS + (1.5 if self.selected else 0.0)
        shadow, main = self._pens()
        for pn in (shadow, main):
            p.setPen(pn)
            p.drawEllipse(c, r, r)
            for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                p.drawLine(QPointF(c.x() + dx * (r + 2), c.y() + dy * (r + 2)),
                           QPointF(c.x() + dx * (r + 6), c.y() + dy * (r + 6)))
        self._label(p, c, dx=r + 9, dy=4, avoid=[c], pad=r + 7)
        if self.selected:
            style.handle(p, c)


class MeyerdingItem(AnnotationItem):
    kind = "meyerding"

    def draw(self, p, pts, world):
        a: MeyerdingSlip = self.annotation
        pos = dict(zip(a.roles, pts, strict=True))
        dev_all = [world.map(q) for q in pts]
        dpos = dict(zip(a.roles, dev_all, strict=True))
        segs = []
        dashed_segs = []
        if S1_PS in pos and S1_AS in pos:
            ps, as_ = pos[S1_PS], pos[S1_AS]
            # the S1 endplate line, extended a little beyond both corners
            vx, vy = as_.x() - ps.x(), as_.y() - ps.y()
            segs.append((QPointF(ps.x() - 0.15 * vx, ps.y() - 0.15 * vy), QPointF(as_.x() + 0.15 * vx, as_.y() + 0.15 * vy)))
            if L5_PI in pos:
                c = pos[L5_PI]
                n2 = vx * vx + vy * vy
                if n2 > 0:
                    t = ((c.x() - ps.x()) * vx + (c.y() - ps.y()) * vy) / n2
                    foot = QPointF(ps.x() + t * vx, ps.y() + t * vy)
                    dashed_segs.append((c, foot))
                    segs.append((ps, foot))  # the displacement along the endplate (drawn twice: bold)
        if L5_PI in pos and L5_WALL_TOP in pos:
            segs.append((pos[L5_WALL_TOP], pos[L5_PI]))
        if L5_EP_1 in pos and L5_EP_2 in pos:
            segs.append((pos[L5_EP_1], pos[L5_EP_2]))
        if S1_PS in pos and S1_WALL in pos:
            segs.append((pos[S1_PS], pos[S1_WALL]))
        self._lines(p, segs)
        if dashed_segs:
            shadow, main = self._pens()
            main.setStyle(Qt.PenStyle.DashLine)
            for pn in (shadow, main):
                p.setPen(pn)
                for s in dashed_segs:
                    p.drawLine(*s)
        dev = self._device(p, world, pts)
        p.setPen(style.pen(style.SHADOW, 1.0))
        p.setBrush(self.colour())
        for q in dev:
            p.drawEllipse(q, 2.6, 2.6)
        p.setBrush(Qt.BrushStyle.NoBrush)
        self._handles(p, dev)
        anchor = dpos.get(L5_PI) or dpos.get(S1_AS) or dev[-1]
        dx, dy = _offset_away(anchor, dev, 18.0)
        text = self.label_text()
        if self.preview and a.slip is not None:
            text = "live: " + text
        self._label(p, anchor, colour=style.SELECTED if self.preview else None, dx=dx if dx > 0 else dx - 120,
                    dy=dy, text=text, bold=True, avoid=dev, pad=6)


class _RoiItem(AnnotationItem):
    def colour(self):
        return style.ROI_ROLE_COLOURS.get(getattr(self.annotation, "role", "generic"), style.ROI_ROLE_COLOURS["generic"])

    def label_text(self) -> str:
        a = self.annotation
        lines = []
        role = {"edema": "oedema ROI", "reference": "reference ROI (normal marrow)"}.get(a.role, "ROI")
        head = f"{a.label} ({role})" if a.label else role  # the role always shows (switch: ROI role menu)
        where = " ".join(v.value for v in (a.level, a.side) if v is not None)
        lines.append(" ".join(x for x in (head, where) if x))
        if not self.measured_here():  # e.g. an MR ROI seen on a CT of the same frame of reference
            lines.append("values measured on another series")
            return "\n".join(lines)
        st = a.stats
        if st is not None and st.n:
            lines.append(f"mean {st.mean:.1f}  SD {st.sd:.1f}  (n={st.n})")
        from app.annotations.space import format_area
        area = a.area
        if area is not None:
            lines.append("area " + format_area(area, a.in_mm, a.display_calibration))
        extra = self._extra_text(a)
        if extra:
            lines.append(extra)
        return "\n".join(lines)

    def measured_here(self) -> bool:
        """True when this view shows the series the ROI statistics were measured on."""
        if self.preview:
            return True
        try:
            shown = self.mapper.image_key()[0]
        except (AttributeError, TypeError):
            return True
        return not shown or shown == self.annotation.series_instance_uid

    def _label_anchor(self, dev: Sequence[QPointF]) -> QPointF:
        right = max(dev, key=lambda q: q.x())
        top = min(q.y() for q in dev)
        return QPointF(right.x(), top)


class EllipseRoiItem(_RoiItem):
    kind = "ellipse-roi"

    def draw(self, p, pts, world):
        if len(pts) == 2:
            rect = QRectF(pts[0], pts[1]).normalized()
            path = QPainterPath()
            path.addEllipse(rect)
            self._path(p, path)
            corners = [rect.topLeft(), rect.topRight(), rect.bottomLeft(), rect.bottomRight()]
        else:
            corners = pts
        dev = self._device(p, world, pts)
        self._handles(p, dev)
        box = [world.map(q) for q in corners]
        self._label(p, self._label_anchor(box), dx=8, dy=10, avoid=box)


class FreehandRoiItem(_RoiItem):
    kind = "freehand-roi"

    def draw(self, p, pts, world):
        path = QPainterPath()
        path.addPolygon(QPolygonF(pts))
        if len(pts) >= 3:
            path.closeSubpath()
        self._path(p, path)
        dev = self._device(p, world, pts)
        if self.selected:  # many points: show a few handles only
            step = max(1, len(dev) // 12)
            for q in dev[::step]:
                style.handle(p, q)
        self._label(p, self._label_anchor(dev), dx=8, dy=10, avoid=dev)


class LengthItem(AnnotationItem):
    kind = "length"

    def draw(self, p, pts, world):
        dev = self._device(p, world, pts)
        segs = []
        if len(dev) == 2:
            a, b = dev
            segs.append((a, b))
            vx, vy = b.x() - a.x(), b.y() - a.y()
            n = math.hypot(vx, vy) or 1.0
            nx, ny = -vy / n * 5, vx / n * 5
            for q in (a, b):
                segs.append((QPointF(q.x() - nx, q.y() - ny), QPointF(q.x() + nx, q.y() + ny)))
        self._lines(p, segs)
        self._handles(p, dev)
        if len(dev) == 2:
            mid = QPointF((dev[0].x() + dev[1].x()) / 2, (dev[0].y() + dev[1].y()) / 2)
            self._label(p, mid, dx=10, dy=-8, avoid=dev, pad=6)


class AngleItem(AnnotationItem):
    kind = "angle"

    def draw(self, p, pts, world):
        dev = self._device(p, world, pts)
        segs = [(dev[i], dev[i + 1]) for i in range(len(dev) - 1)]
        self._lines(p, segs)
        if len(dev) == 3:
            v = dev[1]
            a1 = math.degrees(math.atan2(-(dev[0].y() - v.y()), dev[0].x() - v.x()))
            a2 = math.degrees(math.atan2(-(dev[2].y() - v.y()), dev[2].x() - v.x()))
            span = (a2 - a1 + 540) % 360 - 180
            shadow, main = self._pens()
            for pn in (shadow, main):
                p.setPen(pn)
                p.drawArc(QRectF(v.x() - 18, v.y() - 18, 36, 36), int(a1 * 16), int(span * 16))
        self._handles(p, dev)
        if dev:
            anchor = dev[1] if len(dev) >= 2 else dev[0]
            dx, dy = _offset_away(anchor, dev, 22.0)
            self._label(p, anchor, dx=dx - (40 if dx < 0 else 0), dy=dy + 4)


class CobbItem(AnnotationItem):
    kind = "cobb"

    def draw(self, p, pts, world):
        dev = self._device(p, world, pts)
        segs = []
        if len(dev) >= 2:
            segs.append((dev[0], dev[1]))
        if len(dev) >= 4:
            segs.append((dev[2], dev[3]))
        self._lines(p, segs)
        self._handles(p, dev)
        if len(dev) >= 4:
            m1 = QPointF((dev[0].x() + dev[1].x()) / 2, (dev[0].y() + dev[1].y()) / 2)
            m2 = QPointF((dev[2].x() + dev[3].x()) / 2, (dev[2].y() + dev[3].y()) / 2)
            shadow, main = self._pens()
            main.setStyle(Qt.PenStyle.DotLine)
            for pn in (shadow, main):
                p.setPen(pn)
                p.drawLine(m1, m2)
            self._label(p, QPointF((m1.x() + m2.x()) / 2, (m1.y() + m2.y()) / 2), dx=10, dy=0)


class ArrowTextItem(AnnotationItem):
    kind = "arrow-text"

    def draw(self, p, pts, world):
        dev = self._device(p, world, pts)
        if len(dev) < 2:
            self._handles(p, dev)
            return
        tip, tail = dev[0], dev[1]
        vx, vy = tip.x() - tail.x(), tip.y() - tail.y()
        n = math.hypot(vx, vy) or 1.0
        ux, uy = vx / n, vy / n
        head = 11.0
        left = QPointF(tip.x() - ux * head - uy * head * 0.45, tip.y() - uy * head + ux * head * 0.45)
        right = QPointF(tip.x() - ux * head + uy * head * 0.45, tip.y() - uy * head - ux * head * 0.45)
        self._lines(p, [(tail, tip), (tip, left), (tip, right)])
        self._handles(p, dev)
        text = self.annotation.label or ("(text)" if self.preview else "")
        align_right = vx > 0
        style.text(p, QPointF(tail.x() + (-6 if align_right else 6), tail.y() + 4), text, self.colour(),
                   size=9.5, align="right" if align_right else "left")


class LevelLabelItem(AnnotationItem):
    kind = "level-label"

    def draw(self, p, pts, world):
        dev = self._device(p, world, pts)
        c = dev[0]
        a: LevelLabel = self.annotation
        p.setPen(style.pen(style.SHADOW, 1.0))
        p.setBrush(self.colour())
        p.drawEllipse(c, 3.0, 3.0)
        p.setBrush(Qt.BrushStyle.NoBrush)
        colour = self.colour() if not a.inferred else self.colour().darker(115)
        style.text(p, QPointF(c.x() + 8, c.y() + 5), a.display_text, colour, size=11, bold=True)
        if self.selected:
            style.handle(p, c)


ITEM_CLASSES: dict[str, type[AnnotationItem]] = {
    cls.kind: cls for cls in (ParsMarkerItem, MeyerdingItem, EllipseRoiItem, FreehandRoiItem, LengthItem, AngleItem,
                              CobbItem, ArrowTextItem, LevelLabelItem)
}


def make_item(annotation: Annotation, mapper: ViewMapper, parent: QGraphicsItem | None = None, **kw: Any
              ) -> AnnotationItem:
    """The item for ``annotation`` (``ITEM_CLASSES[annotation.kind]``)."""
    cls = ITEM_CLASSES.get(annotation.kind)
    if cls is None:
        raise KeyError(f"no item class for annotation kind {annotation.kind!r}")
    return cls(annotation, mapper, parent, **kw)
