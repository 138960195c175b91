"""Key images on the Qt side: mark the view of a cell (``capture_key_image``) and render a
stored key image offscreen through the viewer's own SliceView with its annotations burned in
(``render_key_image``). Rendered cells carry no patient identity: the view is a fresh one, so
the corner texts hold no name (the anonymised report needs no extra step)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from app.annotations.model import Annotation
from app.findings.model import KeyImage
from app.report.identity import ReportError
from app.viewer.annotation_view import ViewMapper, view_image_key

KEY_IMAGE_SIZE_PX = (512, 512)


def _wl(display: Any) -> tuple[float | None, float | None]:
    wl = getattr(getattr(display, "options", None), "wl", None)
    return (None, None) if wl is None else (float(wl.center), float(wl.width))


def visible_annotation_ids(view: Any, annotations: Iterable[Annotation],
                           frame_of_reference: Callable[[str], str | None] = lambda uid: None) -> tuple[str, ...]:
    mapper = ViewMapper(view, frame_of_reference)
    return tuple(a.id for a in annotations if mapper.points(a) is not None)


def capture_key_image(view: Any, annotations: Iterable[Annotation], caption: str = "",
                      frame_of_reference: Callable[[str], str | None] = lambda uid: None,
                      key_image_id: str = "") -> KeyImage:
    """The KeyImage of what ``view`` shows now: image, slice, plane, window/level, zoom and the
    annotations visible on it. ReportError when the view shows no single source image."""
    display = getattr(view, "display", None)
    kind = getattr(display, "kind", "")
    if kind not in ("volume", "radiograph"):
        raise ReportError("no image in this cell to mark as a key image")
    series, sop, frame = view_image_key(view)
    if not sop:
        raise ReportError("this plane is a reformat with no single source image: mark a key image on a "
                          "native slice (or on a radiograph)")
    center, width = _wl(display)
    return KeyImage(
        key_image_id=key_image_id or uuid.uuid4().hex[:12], series_instance_uid=series, sop_instance_uid=sop,
        frame=frame, slice_index=int(display.index) if kind == "volume" else None,
        plane=str(display.orientation) if kind == "volume" else "",
        window_center=center, window_width=width, zoom=float(view.zoom), caption=caption.strip(),
        annotation_ids=visible_annotation_ids(view, annotations, frame_of_reference))


def _fresh_display(source: Any, key: KeyImage) -> Any:
    from app.viewer.display import RadiographDisplay, VolumeDisplay
    from app.viewer.window_level import WindowLevel

    if source.kind == "radiograph":
        d = RadiographDisplay(source.radiograph)
    else:
        d = VolumeDisplay(source.volume, orientation=key.plane or "native", prep=source.prep)
        if key.slice_index is not None:
            d.set_index(key.slice_index)
    if key.window_center is not None and key.window_width is not None:
        d.options.wl, d.options.wl_source = WindowLevel(key.window_center, key.window_width), "key image"
    return d


def source_display_for(key: KeyImage, views: Iterable[Any]) -> Any | None:
    """A loaded display of the key image's series (volume or that radiograph), or None."""
    for v in views:
        d = getattr(v, "display", None)
        kind = getattr(d, "kind", "")
        if kind == "volume" and d.volume.series_instance_uid == key.series_instance_uid:
            return d
        if kind == "radiograph" and d.radiograph.sop_instance_uid == key.sop_instance_uid:
            return d
    return None


def render_key_image(key: KeyImage, source: Any, annotations: Iterable[Annotation],
                     frame_of_reference: Callable[[str], str | None] = lambda uid: None,
                     size_px: tuple[int, int] = KEY_IMAGE_SIZE_PX) -> bytes:
    """PNG of ``key`` drawn by an offscreen SliceView, its annotations burned in."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    from app.ui.annotations.items import make_item
    from app.ui.selftest_render import ensure_application
    from app.ui.viewer.slice_view import SliceView
    from app.viewer.state import ViewerState

    app = ensure_application()
    view = SliceView(ViewerState())
    try:
        view.resize(*size_px)
        view.show()
        view.set_display(_fresh_display(source, key))
        if key.zoom:
            view.zoom = key.zoom
            view._apply_view()
        mapper = ViewMapper(view, frame_of_reference)
        wanted = set(key.annotation_ids)
        for ann in annotations:
            if ann.id in wanted:
                try:
                    make_item(ann, mapper, view.annotation_layer, is_selected=lambda _aid: False,
                              extra_text=lambda _a: "")
                except KeyError:
                    continue
        app.processEvents()
        image = view.viewport().grab().toImage()
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buf, "PNG")
        buf.close()
        return bytes(data.data())
    finally:
        view.close_view()
        view.close()
        view.deleteLater()


def key_image_where(key: KeyImage, series_description: str = "") -> str:
    parts = [series_description] if series_description else []
    if key.plane:
        parts.append(key.plane)
    if key.slice_index is not None:
        parts.append(f"slice {key.slice_index + 1}")
    if key.window_center is not None and key.window_width is not None:
        parts.append(f"W {key.window_width:g} / L {key.window_center:g}")
    if key.zoom:
        parts.append(f"zoom {key.zoom:.2f}x")
    return ", ".join(parts)
