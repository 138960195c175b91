import numpy as np

from app.viewer import mpr
from app.viewer.orientation import (
    direction_label,
    edge_labels,
    patient_orientation_vector,
    radiograph_edge_labels,
    screen_directions,
)


def test_single_axis_labels():
    assert direction_label((1, 0, 0)) == "L"
    assert direction_label((-1, 0, 0)) == "R"
    assert direction_label((0, 1, 0)) == "P"
    assert direction_label((0, -1, 0)) == "A"
    assert direction_label((0, 0, 1)) == "S"
    assert direction_label((0, 0, -1)) == "I"


def test_oblique_labels_are_combined_dominant_first():
    assert direction_label((0.8, -0.6, 0)) == "LA"
    assert direction_label((-0.3, 0, 0.95)) == "SR"
    assert direction_label((0.999, 0.05, 0)) == "L"  # a few degrees keeps one letter


def test_axial_view_labels():
    r, d = mpr.screen_axes("axial")
    e = edge_labels(r, d)
    assert (e.left, e.right, e.top, e.bottom) == ("R", "L", "A", "P")


def test_sagittal_view_labels():
    r, d = mpr.screen_axes("sagittal")
    e = edge_labels(r, d)
    assert (e.left, e.right, e.top, e.bottom) == ("A", "P", "S", "I")


def test_oblique_acquisition_labels():
    # an axial plane rotated 30 degrees about S-I: screen right points left and posterior
    rot = mpr.rotation_matrix((0, 0, 1), 30)
    r = rot @ np.array([1.0, 0, 0])
    d = rot @ np.array([0, 1.0, 0])
    e = edge_labels(r, d)
    assert e.right == "LP" and e.left == "RA" and e.top == "AL" and e.bottom == "PR"


def test_radiograph_labels_with_rotation_and_flip():
    e = radiograph_edge_labels(("L", "F"))
    assert (e.left, e.right, e.top, e.bottom) == ("R", "L", "S", "I")
    e = radiograph_edge_labels(("L", "F"), rotation_deg=90)  # clockwise: top of image goes right
    assert (e.right, e.bottom) == ("S", "L")
    e = radiograph_edge_labels(("L", "F"), flip_h=True)
    assert (e.left, e.right) == ("L", "R")
    assert radiograph_edge_labels(("", "")) is None


def test_patient_orientation_vector():
    assert np.allclose(patient_orientation_vector("H"), (0, 0, 1))
    assert direction_label(patient_orientation_vector("AF")) == "AI"


def test_screen_directions_identity():
    r, d = screen_directions((1, 0, 0), (0, 1, 0))
    assert np.allclose(r, (1, 0, 0)) and np.allclose(d, (0, 1, 0))
