"""Plain input events."""

import pytest

from app.annotations.events import KeyEvent, PointerEvent


def test_pointer_event_normalises_and_validates():
    ev = PointerEvent("press", (3, 4), modifiers={"Shift"})
    assert ev.point_px == (3.0, 4.0) and ev.modifiers == frozenset({"shift"}) and ev.button == "left"
    with pytest.raises(ValueError):
        PointerEvent("click", (0, 0))


def test_from_scene_uses_pixel_centres():
    ev = PointerEvent.from_scene("move", 10.5, 20.5, button="none")
    assert ev.point_px == (10.0, 20.0) and ev.button == "none"
    assert PointerEvent.from_scene("press", 1.0, 1.0, pixel_corner_origin=False).point_px == (1.0, 1.0)


def test_key_event_modifiers():
    assert KeyEvent("Delete", {"Control"}).modifiers == frozenset({"control"})
