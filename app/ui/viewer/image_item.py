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
    """Image in pixel coordinates: pixel (col, row) covers [col-0.5, col+0.5] x [row-0.5, row+0.5]."""

    def __init__(self) -> None:
        super().__init__()
        self._pixels = np.zeros((1, 1), np.uint8)
        self._pixmap = QPixmap.fromImage(to_qimage(self._pixels))
        self.smooth = True
        # the scaled image is kept in device pixels: overlay-only repaints (cursor readout,
        # crosshair) do not rescale it
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_pixels(self, pixels: np.ndarray) -> None:
        shape_changed = pixels.shape != self._pixels.shape
        if shape_changed:
            self.prepareGeometryChange()
        self._pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
        # converted once per frame (a Grayscale8 QImage would be converted on every paint)
        self._pixmap = QPixmap.fromImage(to_qimage(self._pixels))
        self.update()

    @property
    def pixels(self) -> np.ndarray:
        return self._pixels

    def boundingRect(self) -> QRectF:
        h, w = self._pixels.shape
        return QRectF(-0.5, -0.5, w, h)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.smooth)
        painter.drawPixmap(self.boundingRect(), self._pixmap, QRectF(self._pixmap.rect()))
