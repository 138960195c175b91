"""Oblique tilt rotates about a pivot (the crosshair / the pars point under the cursor), not
the image centre, and reports its angle (issue 9)."""

from __future__ import annotations

import numpy as np
import pytest

from app.dicom.model import Geometry, Modality, Plane, Volume
from app.viewer.display import VolumeDisplay, VolumePrep
from app.viewer.window_level import WindowLevel


def _display() -> VolumeDisplay:
    g = Geometry(np.array([-40.0, -40.0, 0.0]), np.array([1.0, 1.0, 1.0]), np.eye(3), (80, 80, 60))
    vol = Volume(np.zeros((60, 80, 80), np.int16), g, Modality.CT, "1.2.3", frame_of_reference_uid="1.2.4",
                 units="HU", plane=Plane.AXIAL)
    return VolumeDisplay(vol, "sagittal", VolumePrep(-1000.0, WindowLevel(400, 40), "test"))


def test_tilt_keeps_the_pivot_on_the_plane_and_reports_the_angle():
    d = _display()
    pivot = np.array([d.plane.origin_lps[0], 25.0, 45.0])  # far from the plane centre, on the plane
    assert abs(d.plane.lps_to_pixel(pivot)[2]) < 0.5
    assert d.tilt_deg == pytest.approx(0.0)
    d.tilt("vertical", 20.0, pivot)
    assert abs(d.plane.lps_to_pixel(pivot)[2]) < 0.75  # within half a slice (index_containing)
    assert d.tilt_deg == pytest.approx(20.0, abs=0.5)
    d.tilt("vertical", -20.0, pivot)
    assert d.tilt_deg == pytest.approx(0.0, abs=0.5)


def test_tilt_about_the_centre_would_lose_an_off_centre_pivot():
    """The old behaviour (pivot = plane centre) moves an off-centre point off the plane."""
    d = _display()
    pivot = np.array([d.plane.origin_lps[0], 25.0, 45.0])
    d.tilt("vertical", 20.0)
    assert abs(d.plane.lps_to_pixel(pivot)[2]) > 2.0
