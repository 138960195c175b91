import numpy as np
import pytest

from app.dicom.model import Calibration, CalibrationBasis, Geometry, Modality, Plane, Radiograph, RadiographView, Volume
from app.viewer import actions
from app.viewer.display import RadiographDisplay, VolumeDisplay, make_display
from app.viewer.scale_bar import scale_bar_mm
from app.viewer.state import ViewerState, link_to_point, reference_line
from app.viewer.window_level import WindowLevel


def _ct(for_uid="1.2.3", shape=(64, 60, 50), origin=(-20.0, -30.0, 100.0), spacing=(0.7, 0.7, 1.0)):
    g = Geometry(np.array(origin), np.array(spacing), np.eye(3), shape)
    rng = np.random.default_rng(0)
    a = rng.integers(-1000, 1500, size=shape[::-1]).astype(np.int16)
    return Volume(a, g, Modality.CT, "ser." + for_uid, frame_of_reference_uid=for_uid, units="HU", plane=Plane.AXIAL,
                  slice_thickness_mm=1.0)


def test_viewer_state_events():
    st = ViewerState()
    seen = []
    st.changed.connect(seen.append)
    st.set_layout("2x2")
    st.set_mode("crosshair")
    st.set_mode("crosshair")
    st.set_crosshair((1, 2, 3), "x")
    assert seen == ["layout", "mode", "crosshair_lps"]
    with pytest.raises(ValueError):
        st.set_layout("3x3")
    st.changed.disconnect(seen.append)
    st.set_layout("1x1")
    assert len(seen) == 3


def test_volume_display_scroll_and_frame():
    d = VolumeDisplay(_ct(), "axial")
    assert d.n_slices == 50 and d.index == 25
    assert d.scroll(3) and d.index == 28
    assert not d.set_index(999) or d.index == 49
    f = d.frame()
    assert f.pixels.shape == (60, 64) and f.pixels.dtype == np.uint8
    assert d.options.wl == WindowLevel(500, 2000)  # CT opens in the bone window
    e = d.edge_labels()
    assert (e.left, e.right, e.top, e.bottom) == ("R", "L", "A", "P")
    v = d.value_at(10, 20)
    assert v == float(d.volume.array[d.index, 20, 10])


def test_crosshair_link_moves_views_of_same_frame_of_reference_only():
    vol = _ct()
    ax = VolumeDisplay(vol, "axial")
    sag = VolumeDisplay(vol, "sagittal")
    cor = VolumeDisplay(vol, "coronal")
    other = VolumeDisplay(_ct("9.9.9"), "axial")
    point = vol.geometry.ijk_to_lps(np.array([10.0, 22.0, 31.0]))
    moved = link_to_point([ax, sag, cor, other], point, "1.2.3")
    assert set(map(id, moved)) == {id(ax), id(sag), id(cor)}
    for d in (ax, sag, cor):
        assert abs(d.plane.lps_to_pixel(point)[2]) <= d.stack.step_mm / 2 + 1e-6
    assert other.index == 25


def test_reference_line_of_sagittal_on_axial():
    vol = _ct()
    ax = VolumeDisplay(vol, "axial")
    sag = VolumeDisplay(vol, "sagittal")
    line = reference_line(ax.plane, sag.plane)
    (c0, _r0), (c1, _r1) = line
    # the sagittal plane is vertical on the axial view: constant column = its x position
    assert c0 == pytest.approx(c1, abs=1e-6)
    x_lps = sag.plane.origin_lps[0]
    assert ax.plane.pixel_to_lps(c0, 0)[0] == pytest.approx(x_lps)
    assert reference_line(ax.plane, ax.plane) is None


def test_tilt_makes_an_oblique_plane_through_the_same_centre():
    d = VolumeDisplay(_ct(), "sagittal")
    p = d.plane
    centre = p.pixel_to_lps((p.shape[1] - 1) / 2, (p.shape[0] - 1) / 2)
    d.tilt("vertical", 20)
    assert d.orientation == "oblique"
    assert abs(d.plane.lps_to_pixel(centre)[2]) < d.stack.step_mm
    assert np.degrees(np.arccos(abs(d.plane.normal_lps @ p.normal_lps))) == pytest.approx(20, abs=0.1)
    assert d.frame().pixels.ndim == 2


def _radiograph(cal=None):
    a = np.tile(np.arange(200, dtype=np.uint16), (100, 1)) * 20
    cal = cal or Calibration(CalibrationBasis.IMAGER_CORRECTED, (0.15, 0.15), 1.15)
    return Radiograph(a, "MONOCHROME2", cal, RadiographView.LEFT_OBLIQUE, Modality.DX, "s", "i",
                      window_center_width=(2000, 4000), patient_orientation=("L", "F"))


def test_radiograph_display_calibration_and_inversion():
    d = make_display(_radiograph())
    assert isinstance(d, RadiographDisplay)
    f = d.frame()
    assert f.spacing_mm == (0.15, 0.15)
    assert d.scale_label() == "ImagerPixelSpacing / magnification"
    assert f.pixels[0, 0] < f.pixels[0, -1]
    d.options.invert = True
    g = d.frame()
    assert g.pixels[0, 0] > g.pixels[0, -1]
    unc = RadiographDisplay(_radiograph(Calibration(CalibrationBasis.UNCALIBRATED, None)))
    assert unc.scale_label() == "uncalibrated" and not unc.calibrated()
    assert unc.frame().spacing_mm == (1.0, 1.0)
    m1 = _radiograph()
    m1.photometric = "MONOCHROME1"
    assert RadiographDisplay(m1).frame().pixels[0, 0] > RadiographDisplay(m1).frame().pixels[0, -1]


def test_scale_bar_lengths():
    assert scale_bar_mm(400, 0.5) == 50.0
    assert scale_bar_mm(400, 0.05) == 5.0
    assert scale_bar_mm(0, 1) == 0.0


def test_actions_registry_is_consistent():
    ids = [a.id for a in actions.ACTIONS]
    assert len(ids) == len(set(ids))
    every = actions.ACTIONS + actions.EDIT_ACTIONS + actions.OTHER_ACTIONS
    keys = [k for a in every for k in (a.shortcut, *a.more_shortcuts) if k]
    assert len(keys) == len(set(keys)), "duplicate shortcut"
    assert "help.shortcuts" in actions.by_id()
    assert ("F1", "Keyboard shortcuts") in actions.shortcut_table()
