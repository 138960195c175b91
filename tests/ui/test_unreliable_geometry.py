"""A volume whose geometry failed the load-time check is shown on a plain 1 mm grid; the view
must then never present distances as millimetres (no scale bar in mm, lengths in px only)."""

from __future__ import annotations

import dataclasses

import pytest

from app.annotations.space import PixelSpace, format_length
from app.dicom import load_series, scan_paths
from app.viewer.annotation_view import pixel_space_for
from app.viewer.display import VolumeDisplay

pytestmark = pytest.mark.gui


def _ct_volume(study):
    (entry,) = [e for e in scan_paths([study / "ct"]).all_series()]
    return load_series(entry)


def test_unreliable_geometry_is_never_measured_in_mm(synthetic_study):
    volume = _ct_volume(synthetic_study)
    good = VolumeDisplay(volume, "axial")
    assert good.calibrated() and good.scale_label() == ""
    assert pixel_space_for(good).calibrated

    bad = VolumeDisplay(dataclasses.replace(volume, geometry_reliable=False), "axial")
    assert not bad.calibrated()
    assert "unreliable" in bad.scale_label()
    space = pixel_space_for(bad)
    assert isinstance(space, PixelSpace) and not space.calibrated
    assert format_length(12.3, space.calibrated).endswith("px")


def test_the_scale_bar_of_an_unreliable_volume_says_why_instead_of_showing_mm(qtbot, synthetic_study):
    from app.ui.viewer.overlay import scale_bar_text
    from app.ui.viewer.slice_view import SliceView
    from app.viewer.state import ViewerState

    view = SliceView(ViewerState())
    qtbot.addWidget(view)
    view.resize(400, 400)
    view.set_display(VolumeDisplay(dataclasses.replace(_ct_volume(synthetic_study), geometry_reliable=False), "axial"))
    length_mm, label = scale_bar_text(view)
    assert length_mm == 0.0 and "unreliable" in label
