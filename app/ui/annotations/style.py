"""Colours, pens and text drawing shared by the annotation items (viewport pixels)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen

from app.findings.model import ParsStatus

SHADOW = QColor(0, 0, 0, 200)
HANDLE_FILL = QColor(255, 255, 255)
HANDLE_EDGE = QColor(20, 20, 20)
SELECTED = QColor(255, 255, 255)

KIND_COLOURS = {
    "pars-marker": QColor(255, 214, 70),
    "meyerding": QColor(80, 220, 255),
    "ellipse-roi": QColor(120, 235, 120),
    "freehand-roi": QColor(120, 235, 120),
    "length": QColor(255, 232, 90),
    "angle": QColor(255, 232, 90),
    "cobb": QColor(255, 170, 80),
    "arrow-text": QColor(250, 250, 250),
    "level-label": QColor(140, 200, 255),
}
STATUS_COLOURS = {
    None: QColor(255, 214, 70),
    ParsStatus.INTACT: QColor(110, 230, 120),
    ParsStatus.STRESS_REACTION: QColor(255, 190, 60),
    ParsStatus.INCOMPLETE_FRACTURE: QColor(255, 130, 60),
    ParsStatus.COMPLETE_FRACTURE: QColor(255, 80, 80),
    ParsStatus.CHRONIC_NONUNION: QColor(230, 110, 255),
}
ROI_ROLE_COLOURS = {
    "edema": QColor(255, 150, 60),
    "reference": QColor(110, 230, 160),
    "generic": QColor(120, 235, 120),
}
LINE_WIDTH = 1.4
HANDLE_SIZE = 7.0


def font(size: float = 9.0, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSizeF(size)
    f.setBold(bold)
    f.setStyleHint(QFont.StyleHint.SansSerif)
    return f


def pen(colour: QColor, width: float = LINE_WIDTH, dashed: bool = False) -> QPen:
    p = QPen(colour, width)
    p.setCosmetic(True)
    p.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    if dashed:
        p.setStyle(Qt.PenStyle.DashLine)
    return p


def shadow_pen(width: float = LINE_WIDTH) -> QPen:
    return pen(SHADOW, width + 1.6)


BOUNDS: list = [None]  # viewport rectangle of the view being painted (labels are kept inside it)
PLACED: list = []  # label rectangles already drawn in the view being painted (labels do not pile up)


def reset_labels() -> None:
    """Call before a view paints its annotation items (SliceView.pre_paint_hooks)."""
    PLACED.clear()


def _free_spot(x: float, top: float, w: float, h: float, inner: QRectF | None) -> float:
    """``top`` moved down (else up) past the labels already placed until the label is clear."""
    def clear(t: float) -> bool:
        r = QRectF(x - 3, t - 1, w + 6, h + 2)
        return not any(r.intersects(q) for q in PLACED)

    if clear(top):
        return top
    for direction in (1, -1):
        t = top
        for _ in range(12):
            hits = [q for q in PLACED if QRectF(x - 3, t - 1, w + 6, h + 2).intersects(q)]
            if not hits:
                break
            t = (max(q.bottom() for q in hits) + 2) if direction > 0 else (min(q.top() for q in hits) - h - 3)
        if clear(t) and (inner is None or (inner.top() <= t and t + h <= inner.bottom())):
            return t
    return top


def _wrap(fm: QFontMetricsF, lines: list[str], max_w: float) -> list[str]:
    """Break lines wider than ``max_w`` at " (" or a space (keeps every word)."""
    out: list[str] = []
    for line in lines:
        while fm.horizontalAdvance(line) > max_w and " " in line:
            cut = -1
            for sep in (" (", " "):
                i = len(line)
                while True:
                    i = line.rfind(sep, 0, i)
                    if i <= 0 or fm.horizontalAdvance(line[:i]) <= max_w:
                        break
                if i > 0:
                    cut = i
                    break
            if cut <= 0:
                break
            out.append(line[:cut])
            line = line[cut + 1:] if line[cut] == " " else line[cut:]
        out.append(line)
    return out


def text(p: QPainter, pos: QPointF, s: str, colour: QColor, size: float = 9.0, bold: bool = False,
         align: str = "left", avoid: QRectF | None = None) -> QRectF:
    """Text with a 1 px black shadow (and a faint backing) at ``pos`` (baseline-left unless
    ``align`` is "center" or "right"), kept inside ``BOUNDS[0]``: long lines wrap, and when there
    is no room at ``pos`` or the text would cover ``avoid`` (the drawing it labels, e.g. the
    landmarks of a slip) it goes right of, left of, below or above it before it is simply shifted
    inside; labels already placed in the view are stepped around. Returns the rectangle used."""
    if not s:
        return QRectF()
    p.setFont(font(size, bold))
    fm = QFontMetricsF(p.font())
    bounds = BOUNDS[0]
    lines = s.split("\n")
    if bounds is not None:
        lines = _wrap(fm, lines, max(60.0, bounds.width() - 12))
    w = max(fm.horizontalAdvance(line) for line in lines)
    h = fm.height() * len(lines)
    x = pos.x() - (w / 2 if align == "center" else w if align == "right" else 0.0)
    y0 = pos.y()
    if bounds is not None:
        inner = bounds.adjusted(4, 4, -4, -4)

        def fits(xx: float, yy: float) -> bool:
            return inner.contains(QRectF(xx, yy - fm.ascent(), w, h))

        def covers(xx: float, yy: float) -> bool:  # the label would hide the drawing it labels
            return avoid is not None and QRectF(xx, yy - fm.ascent(), w, h).intersects(avoid)

        if (not fits(x, y0) or covers(x, y0)) and avoid is not None:
            def clamp_x(xx: float) -> float:
                return max(inner.left(), min(xx, inner.right() - w))

            candidates = ((avoid.right() + 8, y0),  # right of the drawing
                          (avoid.left() - 8 - w, y0),  # left of the drawing (not shifted)
                          (clamp_x(avoid.left()), avoid.bottom() + 6 + fm.ascent()),  # below
                          (clamp_x(avoid.left()), avoid.top() - 6 - h + fm.ascent()))  # above
            for cx, cy in candidates:
                if fits(cx, cy) and not covers(cx, cy):
                    x, y0 = cx, cy
                    break
        x = max(inner.left(), min(x, inner.right() - w))
        y0 = max(inner.top() + fm.ascent(), min(y0, inner.bottom() - h + fm.ascent()))
    y0 = _free_spot(x, y0 - fm.ascent(), w, h, bounds.adjusted(4, 4, -4, -4) if bounds is not None else None) \
        + fm.ascent()
    pos = QPointF(x, y0)
    top = pos.y() - fm.ascent()
    rect = QRectF(x - 3, top - 1, w + 6, h + 2)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(QColor(0, 0, 0, 110)))
    p.drawRoundedRect(rect, 2, 2)
    PLACED.append(rect)
    p.setBrush(Qt.BrushStyle.NoBrush)
    for i, line in enumerate(lines):
        y = pos.y() + i * fm.height()
        p.setPen(SHADOW)
        p.drawText(QPointF(x + 1, y + 1), line)
        p.setPen(colour)
        p.drawText(QPointF(x, y), line)
    return rect


def handle(p: QPainter, pt: QPointF, active: bool = False) -> None:
    s = HANDLE_SIZE + (2 if active else 0)
    p.setPen(pen(HANDLE_EDGE, 1.0))
    p.setBrush(QBrush(HANDLE_FILL if not active else QColor(90, 200, 255)))
    p.drawRect(QRectF(pt.x() - s / 2, pt.y() - s / 2, s, s))
    p.setBrush(Qt.BrushStyle.NoBrush)
