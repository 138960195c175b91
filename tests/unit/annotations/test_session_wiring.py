"""The annotation store inside a StudySession: tools -> findings, table edits -> markers, undo."""

from app.annotations.events import PointerEvent
from app.annotations.store import AnnotationStore
from app.annotations.tools import ParsMarkerTool, ToolContext, complete_pars_marker
from app.findings.model import Level, ParsStatus, Side
from app.session import StudySession


def test_marker_table_edit_and_undo_round_trip():
    store = AnnotationStore()
    session = StudySession("1.2.3", annotation_store=store, autosave=False)
    tool = ParsMarkerTool(store, ToolContext("s", "i"))
    tool.on_pointer(PointerEvent("press", (10, 20)))
    tool.on_pointer(PointerEvent("release", (10, 20)))
    marker_id = tool.last_created.id
    assert session.findings.pars == ()  # a pending marker is not a finding
    complete_pars_marker(store, marker_id, "L5", "left", "complete_fracture")
    f = session.findings.pars_at(Level.L5, Side.LEFT)
    assert f.status is ParsStatus.COMPLETE_FRACTURE and f.provenance[0].annotation_id == marker_id
    session.edit_pars("L5", "left", status="chronic_nonunion")
    assert store[marker_id].status is ParsStatus.CHRONIC_NONUNION
    store.undo()  # the pushed-back edit
    assert session.findings.pars_at(Level.L5, Side.LEFT).status is ParsStatus.COMPLETE_FRACTURE
    store.undo()  # the marker itself
    assert session.findings.pars == ()
