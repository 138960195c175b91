"""The Meyerding tool on sample case 4's lateral radiograph geometry (known slip 18 %), driven
by PointerEvents at the projected landmark pixels - the headless twin of the pytest-qt test."""

import numpy as np
import pytest

from app.annotations.events import PointerEvent
from app.annotations.space import PixelSpace
from app.annotations.store import AnnotationStore
from app.annotations.tools import MeyerdingTool, ToolContext
from app.findings.derive import derive_findings
from app.findings.model import Level, MeyerdingGrade, StudyFindings
from app.samples.cases import case_by_number
from app.samples.phantom import model_for
from app.samples.render_dx import dx_projection


def _landmark_pixels(case):
    lm = model_for(case).geometry.landmarks()
    proj = dx_projection(case, "LAT")
    out = {}
    for name in ("S1 postero-superior corner", "S1 antero-superior corner", "L5 postero-inferior corner"):
        row, col = proj.project(lm[name])
        out[name] = (col, row)  # tools take (column, row)
    return out, proj


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_case4_slip_within_3_points_with_click_jitter(seed):
    case = case_by_number(4)
    px, proj = _landmark_pixels(case)
    rng = np.random.default_rng(seed)
    store = AnnotationStore()
    space = PixelSpace((proj.object_pixel_mm, proj.object_pixel_mm), "ImagerPixelSpacing / magnification")
    tool = MeyerdingTool(store, ToolContext("dx-series", "dx-lat", None, space))
    for name in ("S1 postero-superior corner", "S1 antero-superior corner", "L5 postero-inferior corner"):
        p = np.asarray(px[name]) + rng.uniform(-1.5, 1.5, 2)  # a reader's click error, +-1.5 px
        tool.on_pointer(PointerEvent("move", tuple(p), button="none"))
        tool.on_pointer(PointerEvent("press", tuple(p)))
        tool.on_pointer(PointerEvent("release", tuple(p)))
    assert len(store) == 1
    ann = store.annotations[0]
    assert abs(ann.percent_slip - case.slip_pct) <= 3.0
    assert ann.grade is MeyerdingGrade.I
    slip = derive_findings(store, StudyFindings()).level(Level.L5).slip
    assert abs(slip.percent - case.slip_pct) <= 3.0
    store.undo()
    assert len(store) == 0
    store.redo()
    assert store.annotations[0] == ann


def test_case4_exact_landmarks_give_the_case_slip():
    case = case_by_number(4)
    px, _ = _landmark_pixels(case)
    store = AnnotationStore()
    tool = MeyerdingTool(store, ToolContext("s", "i"))  # uncalibrated: percent is a ratio, still valid
    for name in ("S1 postero-superior corner", "S1 antero-superior corner", "L5 postero-inferior corner"):
        tool.on_pointer(PointerEvent("press", px[name]))
        tool.on_pointer(PointerEvent("release", px[name]))
    assert store.annotations[0].percent_slip == pytest.approx(case.slip_pct, abs=1e-6)
