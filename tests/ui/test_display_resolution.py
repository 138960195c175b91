"""A radiograph fitted in a cell is rendered at display resolution and full resolution once
zoomed in past 1:1; either way full-resolution pixel coordinates land on the same screen point."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage

from app.dicom.model import Calibration, CalibrationBasis, Modality, Radiograph, RadiographView
from app.viewer.display import RadiographDisplay
from app.viewer.state import ViewerState

pytestmark = pytest.mark.gui

SQUARE = (1480, 990, 30)  # col, row, side of a bright square in the 2500 x 2000 image


def _radiograph(spacing=(0.14, 0.14)):
    a = np.full((2500, 2000), 600, np.uint16)
    c, r, s = SQUARE
    a[r:r + s, c:c + s] = 3600
    return Radiograph(a, "MONOCHROME2", Calibration(CalibrationBasis.IMAGER_CORRECTED, spacing, 1.1),
                      RadiographView.LEFT_OBLIQUE, Modality.DX, "s", "i", window_center_width=(2048, 4096),
                      patient_orientation=("L", "F"))


@pytest.fixture
def view(qtbot):
    from app.ui.viewer.slice_view import SliceView

    v = SliceView(ViewerState())
    qtbot.addWidget(v)
    v.resize(420, 360)
    v.show()
    qtbot.waitExposed(v)
    return v


def _grab(view) -> np.ndarray:
    img = view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    w, h, stride = img.width(), img.height(), img.bytesPerLine()
    return np.frombuffer(img.constBits(), np.uint8, count=stride * h).reshape(h, stride)[:, :w].copy()


def _bright_centroid(view, near: QPointF, radius: int = 25) -> tuple[float, float]:
    """Centroid of the bright pixels within ``radius`` of ``near`` (the corner texts are bright too)."""
    g = _grab(view)
    x0, y0 = int(near.x()) - radius, int(near.y()) - radius
    ys, xs = np.nonzero(g[max(y0, 0):y0 + 2 * radius, max(x0, 0):x0 + 2 * radius] > 140)
    assert len(xs) > 0, "the bright square is not where its pixel coordinates say"
    return float(xs.mean()) + max(x0, 0), float(ys.mean()) + max(y0, 0)


def test_fitted_radiograph_renders_at_screen_size_and_full_resolution_when_zoomed(view):
    view.set_display(RadiographDisplay(_radiograph()))
    step = view.image_item.step
    rows, cols = view.rendered_pixels().shape
    assert step > 1
    assert (rows, cols) == (-(-2500 // step), -(-2000 // step))
    shown_w = 2000 * 0.14 * view.scale_factor() * view.devicePixelRatioF()
    assert cols >= shown_w  # at least one rendered pixel per screen pixel: no detail thrown away
    assert cols < 2 * shown_w
    assert view.image_item.boundingRect().width() == 2000  # the item stays in full-resolution pixels
    view.zoom_by(1.0 / view.scale_factor() / 0.14 * 1.5)  # 1.5 screen px per image pixel
    assert view.image_item.step == 1
    assert view.rendered_pixels().shape == (2500, 2000)
    view.reset_view()
    assert view.image_item.step == step


@pytest.mark.parametrize("spacing", [(0.14, 0.14), (0.2, 0.1)])
def test_full_resolution_pixels_land_on_the_same_screen_point(view, spacing):
    """The square's centre in full-resolution pixels maps to where the reduced image shows it."""
    view.set_display(RadiographDisplay(_radiograph(spacing)))
    assert view.image_item.step > 1
    c, r, s = SQUARE
    centre = QPointF(c + (s - 1) / 2, r + (s - 1) / 2)
    expected = view.viewport_point_of_pixel(centre.x(), centre.y())
    x, y = _bright_centroid(view, expected)
    assert abs(x - expected.x()) < 1.0 and abs(y - expected.y()) < 1.0
    col, row = view.pixel_at(expected)
    assert abs(col - centre.x()) < 1e-6 and abs(row - centre.y()) < 1e-6
    # the same point after zooming in to full resolution: the square stays under the same pixel
    view.zoom_by(8.0, anchor=expected)
    assert view.image_item.step == 1
    x2, y2 = _bright_centroid(view, expected)
    again = view.viewport_point_of_pixel(centre.x(), centre.y())
    assert abs(x2 - again.x()) < 1.0 and abs(y2 - again.y()) < 1.0
    assert abs(again.x() - expected.x()) < 1.0 and abs(again.y() - expected.y()) < 1.0
