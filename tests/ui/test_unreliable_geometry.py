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


def test_unreliable_geometry_shows_no_sides_and_links_to_no_other_series(synthetic_study):
    volume = _ct_volume(synthetic_study)
    good = VolumeDisplay(volume, "axial")
    assert good.frame_of_reference_uid and good.geometry_warning() == ""
    assert "?" not in vars(good.edge_labels()).values()

    bad_volume = dataclasses.replace(volume, geometry_reliable=False)
    axial = VolumeDisplay(bad_volume, "axial")
    assert axial.frame_of_reference_uid is None  # no crosshair, sync or reference line through it
    assert set(vars(axial.edge_labels()).values()) == {"?"}  # never an invented R/L/A/P
    assert "sides unknown" in axial.geometry_warning()
    sagittal = VolumeDisplay(bad_volume, "sagittal")
    assert sagittal.geometry_warning().startswith("MPR of unreliable geometry")


def test_the_overlay_of_an_unreliable_reformat_warns_and_gives_no_patient_position(qtbot, synthetic_study):
    from app.ui.viewer.overlay import corner_lines
    from app.ui.viewer.slice_view import SliceView
    from app.viewer.state import ViewerState

    view = SliceView(ViewerState())
    qtbot.addWidget(view)
    view.resize(500, 500)
    bad_volume = dataclasses.replace(_ct_volume(synthetic_study), geometry_reliable=False)
    view.set_display(VolumeDisplay(bad_volume, "sagittal"))
    view.cursor_pixel = (10.0, 10.0)
    lines = corner_lines(view)
    assert any(text.startswith("MPR of unreliable geometry") for text, _ in lines["top-right"])
    assert lines["bottom-right"] and not any(text.startswith("LPS") for text, _ in lines["bottom-right"])
    assert any(text.startswith("Pos ?  Thk ?") for text, _ in lines["bottom-left"])
    assert not any(" mm" in text for corner in lines.values() for text, _ in corner)

    view.set_display(VolumeDisplay(_ct_volume(synthetic_study), "sagittal"))
    view.cursor_pixel = (10.0, 10.0)
    lines = corner_lines(view)
    assert not any("unreliable" in text for text, _ in lines["top-right"])
    assert any(text.startswith("LPS") for text, _ in lines["bottom-right"])
    assert any(text.startswith("Pos ") and text.endswith(" mm") for text, _ in lines["bottom-left"])
