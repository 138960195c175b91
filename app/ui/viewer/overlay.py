"""Painting of a SliceView's overlays in viewport pixels: corner text, orientation labels, scale
bar with its calibration basis, crosshair, reference lines, cell title and empty-cell message."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QWidget

from app.viewer.display import Display, PreviewDisplay, VolumeDisplay
from app.viewer.hanging import CellSpec
from app.viewer.mpr import PlaneSpec
from app.viewer.scale_bar import scale_bar_mm
from app.viewer.state import ViewerState, reference_line


class SliceView(Protocol):
    """What the overlays read of a view (app.ui.viewer.slice_view.SliceView): a protocol, so
    this module does not import the view that imports it."""

    display: Display | None
    state: ViewerState
    cell: CellSpec | None
    context: dict[str, str]
    modality: str
    series_description: str
    note: str
    loading_text: str
    active: bool
    zoom: float
    cursor_pixel: tuple[float, float] | None
    reference_planes: list[PlaneSpec]
    image_item: QGraphicsItem

    def scale_factor(self) -> float: ...
    def viewport(self) -> QWidget: ...
    def viewportTransform(self) -> QTransform: ...
    def viewport_point_of_pixel(self, col: float, row: float) -> QPointF: ...

TEXT = QColor(222, 222, 222)
ACCENT = QColor(240, 200, 70)
DIM = QColor(150, 150, 150)
SHADOW = QColor(0, 0, 0, 220)
CROSS = QColor(90, 200, 255)
REF = QColor(240, 170, 60)
ACTIVE = QColor(70, 130, 220)
MARGIN = 6


def _font(size: int = 9, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSize(size)
    f.setBold(bold)
    f.setStyleHint(QFont.StyleHint.SansSerif)
    return f


def _text(p: QPainter, x: float, y: float, s: str, color: QColor = TEXT) -> None:
    p.setPen(SHADOW)
    p.drawText(QPointF(x + 1, y + 1), s)
    p.setPen(color)
    p.drawText(QPointF(x, y), s)


Placed = list[tuple[str, QRectF, bool, QColor]]  # (shown text, rectangle, elided?, colour)
GAP = 10  # px between a left and a right corner line on the same row
BASIS_SHARE = 0.62  # of the cell width for the calibration basis under the scale bar


def _edge_label_half_px(view: SliceView) -> float:
    """Half the width of the widest top/bottom orientation letter(s) (drawn at 11 pt bold)."""
    e = view.display.edge_labels() if view.display is not None else None
    if e is None:
        return 0.0
    fm = QFontMetrics(_font(11, True))
    return max(fm.horizontalAdvance(e.top), fm.horizontalAdvance(e.bottom)) / 2 + 4


def _pair_layout(left: list[tuple[str, QColor]], right: list[tuple[str, QColor]], top: bool, w: int, h: int,
                 fm: QFontMetrics, centre_half: float, right_reserved: list[float]) -> tuple[Placed, Placed]:
    """The left and right blocks of one edge, row by row: two lines on a row share the width
    (the shorter one whole), the row at the edge keeps the orientation letter free. Rows are
    counted from the edge; ``right_reserved`` are widths already used on the right (scale bar)."""
    lh = fm.height()
    lines_l = [x for x in left if x[0]]
    lines_r = [x for x in right if x[0]]
    n_l, n_r = len(lines_l), len(lines_r)
    out_l: Placed = []
    out_r: Placed = []

    def y_of(row: int, n: int, offset: float = 0.0) -> float:  # top of the line's rectangle
        if top:
            return MARGIN + row * lh
        return h - MARGIN - (n - row) * lh - offset

    rows = max(n_l, n_r + len(right_reserved))
    for r in range(rows):
        # row r counted from the edge
        li = r if top else n_l - 1 - r
        ri = r if top else n_r - 1 - r
        ltxt, lcol = lines_l[li] if 0 <= li < n_l and r < n_l else ("", TEXT)
        rtxt, rcol = lines_r[ri] if 0 <= ri < n_r and r < n_r else ("", TEXT)
        rw_reserved = right_reserved[r - n_r] if (not top and r >= n_r and r - n_r < len(right_reserved)) else 0.0
        lw = fm.horizontalAdvance(ltxt)
        rw = fm.horizontalAdvance(rtxt) if rtxt else rw_reserved
        if r == 0 and centre_half:
            lmax = rmax = w / 2 - centre_half - MARGIN
        else:
            avail = w - 2 * MARGIN - GAP
            if lw + rw <= avail:
                lmax, rmax = lw, rw
            elif min(lw, rw) <= avail / 2:
                lmax, rmax = (lw, avail - lw) if lw <= rw else (avail - rw, rw)
            else:
                lmax = rmax = avail / 2
        for txt, col, limit, side in ((ltxt, lcol, lmax, "l"), (rtxt, rcol, rmax, "r")):
            if not txt:
                continue
            shown = (
                txt if fm.horizontalAdvance(txt) <= limit else fm.elidedText(txt, Qt.TextElideMode.ElideRight, max(0, int(limit)))
            )
            tw = fm.horizontalAdvance(shown)
            x = MARGIN if side == "l" else w - MARGIN - tw
            n = n_l if side == "l" else n_r
            idx = li if side == "l" else ri
            rect = QRectF(x, y_of(idx, n), tw, lh)
            (out_l if side == "l" else out_r).append((shown, rect, shown != txt, col))
    return out_l, out_r


def _scale_bar_rows(view: SliceView) -> list[float]:
    """Widths the scale bar and its basis label take above the bottom-right block, by row."""
    d = view.display
    if d is None:
        return []
    fm8 = QFontMetrics(_font(8))
    length_mm, _label = scale_bar_text(view)
    rows: list[float] = []
    basis = d.scale_label()
    if basis:
        on_edge_row = not corner_lines(view)["bottom-right"]
        rows.append(min(fm8.horizontalAdvance(basis), _basis_width(view, on_edge_row)))
    if length_mm > 0:
        bar = length_mm * view.scale_factor() + 4
        rows += [max(bar, QFontMetrics(_font(9)).horizontalAdvance(f"{length_mm:.0f} mm"))] * 2
    return rows


def _basis_width(view: SliceView, on_edge_row: bool) -> float:
    """Room for the calibration basis label; on the bottom row it keeps clear of the centre letter."""
    w = view.viewport().width()
    return w / 2 - _edge_label_half_px(view) - MARGIN if on_edge_row else w * BASIS_SHARE


def corner_font(view: SliceView) -> QFont:
    """9 pt, 8 pt in narrow cells (the pars layout beside the review dock)."""
    return _font(8 if view.viewport().width() < 380 else 9)


def overlay_layout(view: SliceView) -> dict[str, Placed]:
    """Every corner line of ``view`` as painted: corner -> [(text, rectangle, elided?, colour)]."""
    w, h = view.viewport().width(), view.viewport().height()
    fm = QFontMetrics(corner_font(view))
    lines = corner_lines(view)
    half = _edge_label_half_px(view)
    tl, tr = _pair_layout(lines["top-left"], lines["top-right"], True, w, h, fm, half, [])
    bl, br = _pair_layout(lines["bottom-left"], lines["bottom-right"], False, w, h, fm, half, _scale_bar_rows(view))
    return {"top-left": tl, "top-right": tr, "bottom-left": bl, "bottom-right": br}


def _fmt(v) -> str:
    if v is None:
        return ""
    return f"{v:.0f}" if abs(v - round(v)) < 1e-6 or abs(v) >= 100 else f"{v:.1f}"


def corner_lines(view: SliceView) -> dict[str, list[tuple[str, QColor]]]:
    d = view.display
    ctx = view.context
    st = view.state
    tl: list[tuple[str, QColor]] = []
    narrow = view.viewport().width() < 380
    if st.anonymise:  # the presenter's context is anonymised too; this guards a stale one
        tl.append(("Anonymised", TEXT))
    else:
        tl.append((ctx.get("patient_name", ""), TEXT))
        pid = ctx.get("patient_id", "")
        if not narrow:
            tl.append((("ID " + pid) if pid else "", TEXT))
    if not narrow:
        tl.append((" ".join(x for x in (ctx.get("study_date", ""), ctx.get("study_description", "")) if x), DIM))
    else:
        tl.append((ctx.get("study_date", ""), DIM))
    title = view.cell.title if view.cell is not None else ""
    tr: list[tuple[str, QColor]] = [(title, ACCENT)] if title else []
    tr.append((" ".join(x for x in (view.modality, view.series_description) if x), TEXT))
    bl: list[tuple[str, QColor]] = []
    br: list[tuple[str, QColor]] = []
    if d is not None:
        if isinstance(d, VolumeDisplay):
            orient = d.orientation.capitalize()
            if d.orientation != d.volume.plane.value:
                orient += " (MPR)"
            tilt = d.tilt_deg
            tilt_txt = f"   Tilt {tilt:.0f}°" if tilt >= 0.5 else ""
            tr.append((f"{orient}   Im {d.index + 1}/{d.n_slices}{tilt_txt}", ACCENT if tilt_txt else TEXT))
            if d.geometry_warning():
                tr.append((d.geometry_warning(), ACCENT))
            pos = d.slice_position_mm()
            thk = d.thickness_mm()
            slab = f"  {d.slab_mode.upper()} slab" if d.slab_mm > 0 else ""
            if d.calibrated():
                bl.append((f"Pos {pos:.1f}  Thk {thk:.1f} mm{slab}", TEXT))
            else:  # a plain 1 mm grid: neither position nor step is in mm
                bl.append((f"Pos ?  Thk ?{slab}", TEXT))
        elif isinstance(d, PreviewDisplay):
            tr.append(("first image - loading series...", ACCENT))
        wl = d.options.wl
        src = d.options.wl_source
        src_txt = f"  ({src})" if src and not narrow else ""
        bl.append(((f"W {wl.width:.0f}  L {wl.center:.0f}" if wl is not None else "VOI LUT") + src_txt, TEXT))
        if not narrow:
            bl.append((f"Zoom {view.scale_factor():.2f} px/mm" if d.calibrated() else f"Zoom {view.zoom:.2f}x", DIM))
        if view.cursor_pixel is not None:
            col, row = view.cursor_pixel
            val = d.value_at(col, row)
            if val is not None:
                units = "HU " if isinstance(d, VolumeDisplay) and d.volume.units == "HU" else "Val "
                br.append((f"{units}{_fmt(val)}   ({col:.0f}, {row:.0f})", TEXT))
                p = d.pixel_to_lps(col, row) if d.calibrated() else None  # no patient position on a plain grid
                if p is not None:
                    br.append((f"LPS {p[0]:.1f}, {p[1]:.1f}, {p[2]:.1f} mm", DIM))
    if view.note:
        bl.insert(0, (view.note, ACCENT))
    return {"top-left": tl, "top-right": tr, "bottom-left": bl, "bottom-right": br}


def scale_bar_text(view: SliceView) -> tuple[float, str]:
    """(bar length in mm or 0 when uncalibrated, label) e.g. "10 mm (ImagerPixelSpacing / magnification)"."""
    d = view.display
    basis = d.scale_label()
    if not d.calibrated():
        return 0.0, basis
    mm_per_px = 1.0 / max(view.scale_factor(), 1e-9)
    length_mm = scale_bar_mm(view.viewport().width(), mm_per_px, 0.2)
    return length_mm, f"{length_mm:.0f} mm" + (f" ({basis})" if basis else "")


def _scale_bar(p: QPainter, view: SliceView, w: int, h: int, bottom_offset: float) -> float:
    """Bar at the bottom-right above the cursor readout, its length, and under it the calibration
    basis of a radiograph ("uncalibrated" with no bar). Returns the height used."""
    d = view.display
    length_mm, _label = scale_bar_text(view)
    basis = d.scale_label()
    p.setFont(_font(8))
    fm = QFontMetrics(p.font())
    y = h - MARGIN - fm.descent() - bottom_offset
    used = 0.0
    if basis:
        b = fm.elidedText(basis, Qt.TextElideMode.ElideMiddle, int(_basis_width(view, bottom_offset == 0)))
        _text(p, w - MARGIN - fm.horizontalAdvance(b), y, b, DIM if length_mm > 0 else TEXT)
        y -= fm.height()
        used += fm.height()
    if length_mm > 0:
        p.setFont(_font(9))
        fm9 = QFontMetrics(p.font())
        label = f"{length_mm:.0f} mm"
        _text(p, w - MARGIN - fm9.horizontalAdvance(label), y, label, TEXT)
        px = length_mm * view.scale_factor()
        x1 = w - MARGIN - 2
        x0 = x1 - px
        y0 = y - fm9.ascent() - 4
        for color, off in ((SHADOW, 1), (TEXT, 0)):
            p.setPen(QPen(color, 2))
            p.drawLine(QPointF(x0 + off, y0 + off), QPointF(x1 + off, y0 + off))
            p.drawLine(QPointF(x0 + off, y0 - 4 + off), QPointF(x0 + off, y0 + off))
            p.drawLine(QPointF(x1 + off, y0 - 4 + off), QPointF(x1 + off, y0 + off))
        used += fm9.height() + 8
    return used


def _edge_labels(p: QPainter, view: SliceView, w: int, h: int) -> None:
    e = view.display.edge_labels()
    if e is None:
        return
    p.setFont(_font(11, True))
    fm = QFontMetrics(p.font())
    _text(p, MARGIN, h / 2 + fm.ascent() / 2, e.left, ACCENT)
    _text(p, w - MARGIN - fm.horizontalAdvance(e.right), h / 2 + fm.ascent() / 2, e.right, ACCENT)
    _text(p, (w - fm.horizontalAdvance(e.top)) / 2, MARGIN + fm.ascent(), e.top, ACCENT)
    _text(p, (w - fm.horizontalAdvance(e.bottom)) / 2, h - MARGIN - fm.descent(), e.bottom, ACCENT)


def _line_through(p: QPainter, view: SliceView, a, b, color: QColor, dash: bool) -> None:
    pa = view.viewport_point_of_pixel(*a)
    pb = view.viewport_point_of_pixel(*b)
    dx, dy = pb.x() - pa.x(), pb.y() - pa.y()
    n = max((dx * dx + dy * dy) ** 0.5, 1e-9)
    ext = 4000.0 / n
    q0 = QPointF(pa.x() - dx * ext, pa.y() - dy * ext)
    q1 = QPointF(pa.x() + dx * ext, pa.y() + dy * ext)
    pen = QPen(color, 1)
    if dash:
        pen.setStyle(Qt.PenStyle.DashLine)
    p.setPen(pen)
    p.drawLine(q0, q1)


def _crosshair_and_references(p: QPainter, view: SliceView) -> None:
    d = view.display
    if not isinstance(d, VolumeDisplay):
        return
    plane = d.plane
    rect = view.image_item.sceneBoundingRect()
    clip = view.viewportTransform().mapRect(rect)
    p.save()
    p.setClipRect(clip)
    if view.state.show_reference_lines:
        for other in view.reference_planes:
            line = reference_line(plane, other)
            if line is not None:
                _line_through(p, view, line[0], line[1], REF, True)
    st = view.state
    if st.crosshair_lps is not None and st.crosshair_for_uid == d.frame_of_reference_uid:
        col, row, dist = plane.lps_to_pixel(st.crosshair_lps)
        if abs(dist) <= max(d.stack.step_mm, 1.0) * 0.75 + (d.slab_mm / 2):
            c = view.viewport_point_of_pixel(col, row)
            p.setPen(QPen(CROSS, 1))
            gap = 8
            p.drawLine(QPointF(clip.left(), c.y()), QPointF(c.x() - gap, c.y()))
            p.drawLine(QPointF(c.x() + gap, c.y()), QPointF(clip.right(), c.y()))
            p.drawLine(QPointF(c.x(), clip.top()), QPointF(c.x(), c.y() - gap))
            p.drawLine(QPointF(c.x(), c.y() + gap), QPointF(c.x(), clip.bottom()))
    p.restore()


def paint(p: QPainter, view: SliceView) -> None:
    w, h = view.viewport().width(), view.viewport().height()
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    if view.display is not None:
        _crosshair_and_references(p, view)
    title = view.cell.title if view.cell is not None else ""
    if view.display is None:
        if title:
            p.setFont(_font(10, True))
            fm = QFontMetrics(p.font())
            _text(p, (w - fm.horizontalAdvance(title)) / 2, MARGIN + fm.ascent(), title, ACCENT)
        msg = view.loading_text or (view.cell.empty_message if view.cell is not None else "")
        if msg:
            p.setFont(_font(11))
            p.setPen(DIM)
            p.drawText(QRectF(10, 0, w - 20, h), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, msg)
    elif view.state.show_overlays:
        p.setFont(corner_font(view))
        fm = QFontMetrics(p.font())
        layout = overlay_layout(view)
        for placed in layout.values():
            for text, rect, _elided, colour in placed:
                _text(p, rect.x(), rect.y() + fm.ascent(), text, colour)
        _scale_bar(p, view, w, h, len(layout["bottom-right"]) * fm.height())
        _edge_labels(p, view, w, h)
    elif title:
        p.setFont(_font(9, True))
        _text(p, MARGIN, MARGIN + QFontMetrics(p.font()).ascent(), title, ACCENT)
    if view.active:
        p.setPen(QPen(ACTIVE, 2))
        p.drawRect(QRectF(1, 1, w - 2, h - 2))
