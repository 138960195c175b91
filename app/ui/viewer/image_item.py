"""QGraphicsItem that paints a uint8 numpy image (no copy into a QPixmap)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsItem


def to_qimage(pixels: np.ndarray) -> QImage:
    """Grayscale8 QImage sharing the numpy buffer (the caller keeps ``pixels`` alive)."""
    a = np.ascontiguousarray(pixels, dtype=np.uint8)
    h, w = a.shape
    return QImage(a.data, w, h, a.strides[0], QImage.Format.Format_Grayscale8)


class ImageItem(QGraphicsItem):
    """Image in full-resolution pixel coordinates: pixel (col, row) covers
    [col-0.5, col+0.5] x [row-0.5, row+0.5], whatever resolution was rendered.

    A reduced rendering (``step`` > 1: rendered pixel (c, r) is the mean of image pixels
    [c*step, (c+1)*step) x [r*step, (r+1)*step)) is drawn scaled by ``step`` over the same
    extent, so children (annotations) and mapFromScene stay in full-resolution pixels."""

    def __init__(self) -> None:
        super().__init__()
        self._pixels = np.zeros((1, 1), np.uint8)
        self._step = 1
        self._source_shape: tuple[int, int] = (1, 1)
        self._pixmap = QPixmap.fromImage(to_qimage(self._pixels))
        self.smooth = True
        # the scaled image is kept in device pixels: overlay-only repaints (cursor readout,
        # crosshair) do not rescale it
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_pixels(self, pixels: np.ndarray, step: int = 1, source_shape: tuple[int, int] | None = None) -> None:
        """Show ``pixels``; with ``step`` > 1 they are a reduced rendering of an image of
        ``source_shape`` (rows, cols) full-resolution pixels."""
        step = max(1, int(step))
        shape = (int(source_shape[0]), int(source_shape[1])) if source_shape is not None else (
            pixels.shape[0] * step, pixels.shape[1] * step)
        if shape != self._source_shape:
            self.prepareGeometryChange()
        self._pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
        self._step = step
        self._source_shape = shape
        # converted once per frame (a Grayscale8 QImage would be converted on every paint)
        self._pixmap = QPixmap.fromImage(to_qimage(self._pixels))
        self.update()

    @property
    def pixels(self) -> np.ndarray:
        return self._pixels

    @property
    def step(self) -> int:
        """Full-resolution pixels per rendered pixel along each axis (1 = full resolution)."""
        return self._step

    @property
    def source_shape(self) -> tuple[int, int]:
        return self._source_shape

    def boundingRect(self) -> QRectF:
        h, w = self._source_shape
        return QRectF(-0.5, -0.5, w, h)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.smooth)
        # the source rect in rendered pixels that covers exactly the full-resolution extent (the
        # last rendered row/column may stand for a partial block: it is clipped, not stretched)
        h, w = self._source_shape
        painter.drawPixmap(self.boundingRect(), self._pixmap, QRectF(0.0, 0.0, w / self._step, h / self._step))
