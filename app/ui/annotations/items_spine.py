"""Items for the spino-pelvic and flexion/extension segment annotations (see items.py).

Spino-pelvic: femoral head centres (rings) and the hip axis between them, the S1 endplate with
its perpendicular at the midpoint M (dashed), the line M -> hip axis and a dashed vertical
through M (pelvic tilt), the L1 endplate; label "PI  PT  SS  LL" ("live:" while drawing).
Segment: the two endplates and the label with translation and angle on this view.
Registered in ``items.ITEM_CLASSES`` on import (app/ui/annotations/__init__.py imports it).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, Qt

from app.annotations.spine import SegmentMotionLines, SpinoPelvicLines
from app.ui.annotations import style
from app.ui.annotations.items import ITEM_CLASSES, AnnotationItem, _offset_away

SPINE_COLOUR_KEY = {"spinopelvic": (255, 140, 220), "segment-motion": (170, 150, 255)}


def _mid(a: QPointF, b: QPointF) -> QPointF:
    return QPointF((a.x() + b.x()) / 2.0, (a.y() + b.y()) / 2.0)


class _SpineItem(AnnotationItem):
    def colour(self):
        from PySide6.QtGui import QColor

        return style.KIND_COLOURS.get(self.kind) or QColor(*SPINE_COLOUR_KEY[self.kind])

    def _dashed(self, p, segments) -> None:
        shadow, main = self._pens()
        main.setStyle(Qt.PenStyle.DashLine)
        for pn in (shadow, main):
            p.setPen(pn)
            for a, b in segments:
                p.drawLine(a, b)

    def _text(self, p, dev) -> None:
        text = self.label_text()
        if self.preview and self.annotation.is_complete:
            text = "live: " + text
        anchor = dev[-1]
        dx, dy = _offset_away(anchor, dev, 18.0)
        self._label(p, anchor, colour=style.SELECTED if self.preview else None, dx=dx if dx > 0 else dx - 160,
                    dy=dy, text=text, bold=True, avoid=dev, pad=6)


class SpinoPelvicItem(_SpineItem):
    kind = SpinoPelvicLines.kind

    def draw(self, p, pts, world):
        dev = self._device(p, world, pts)
        segs, dashed = [], []
        if len(dev) >= 2:
            segs.append((dev[0], dev[1]))  # hip axis
        if len(dev) >= 4:
            s1p, s1a = dev[2], dev[3]
            m = _mid(s1p, s1a)
            segs.append((s1p, s1a))
            hip = _mid(dev[0], dev[1])
            segs.append((m, hip))
            vx, vy = s1a.x() - s1p.x(), s1a.y() - s1p.y()
            n = math.hypot(vx, vy) or 1.0
            reach = math.hypot(hip.x() - m.x(), hip.y() - m.y())
            # the perpendicular to the endplate on the hip side, and the vertical through M
            nx, ny = -vy / n, vx / n
            if nx * (hip.x() - m.x()) + ny * (hip.y() - m.y()) < 0:
                nx, ny = -nx, -ny
            dashed.append((m, QPointF(m.x() + nx * reach, m.y() + ny * reach)))
            down = 1.0 if hip.y() >= m.y() else -1.0
            dashed.append((m, QPointF(m.x(), m.y() + down * reach)))
        if len(dev) >= 6:
            segs.append((dev[4], dev[5]))
        self._lines(p, segs)
        self._dashed(p, dashed)
        p.setBrush(Qt.BrushStyle.NoBrush)
        shadow, main = self._pens()
        for pn in (shadow, main):
            p.setPen(pn)
            for q in dev[:2]:
                p.drawEllipse(q, 6.0, 6.0)
        self._handles(p, dev)
        if dev:
            self._text(p, dev)


class SegmentMotionItem(_SpineItem):
    kind = SegmentMotionLines.kind

    def draw(self, p, pts, world):
        dev = self._device(p, world, pts)
        segs = [(dev[i], dev[i + 1]) for i in (0, 2) if i + 1 < len(dev)]
        self._lines(p, segs)
        self._handles(p, dev)
        if dev:
            self._text(p, dev)


for _cls in (SpinoPelvicItem, SegmentMotionItem):
    ITEM_CLASSES.setdefault(_cls.kind, _cls)
