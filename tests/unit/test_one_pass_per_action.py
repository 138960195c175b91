"""Issue 12's one-way flow, counted: every user action (a drawing, a table edit, a context or
impression edit, undo, redo) runs the annotation -> findings derivation at most once, the pathway
once and hands the autosave one snapshot; no echo from findings back into annotations re-runs them."""

from __future__ import annotations

import pytest

import app.session as session_module
from app.annotations.model import ParsMarker
from app.findings import model as fm


@pytest.fixture
def counted(monkeypatch):
    counts = {"derive": 0, "evaluate": 0, "autosave": 0}

    def counting(name, fn):
        def wrapper(*args, **kwargs):
            counts[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(session_module, "derive_findings", counting("derive", session_module.derive_findings))
    monkeypatch.setattr(session_module, "evaluate", counting("evaluate", session_module.evaluate))
    session = session_module.StudySession("1.2.826.0.1.3680043.8.498.77")
    monkeypatch.setattr(session.autosave.writer, "update", counting("autosave", session.autosave.writer.update))
    yield session, counts
    session.close()


def _marker() -> ParsMarker:
    return ParsMarker(series_instance_uid="1.2.826.0.1.3680043.8.498.78", sop_instance_uid="1.2.826.0.1.3680043.8.498.79",
                      points_px=((30.0, 40.0),), level=fm.Level.L5, side=fm.Side.LEFT,
                      status=fm.ParsStatus.COMPLETE_FRACTURE)


def test_each_user_action_derives_once_evaluates_once_and_autosaves_once(counted):
    session, counts = counted
    steps = [
        ("draw a pars marker", lambda: session.annotation_store.add(_marker()), 1),
        ("table edit of the marker's finding", lambda: session.edit_pars("L5", "left", status="chronic_nonunion"), 0),
        ("context edit", lambda: session.edit_context(age_years=30), 0),
        ("impression edit", lambda: session.set_impression("bilateral L5 pars defects"), 0),
        ("undo the impression", session.undo, 0),
        ("undo the context", session.undo, 0),
        ("undo the table edit", session.undo, 0),
        ("undo the marker", session.undo, 1),
        ("redo the marker", session.redo, 1),
    ]
    for what, action, derives in steps:
        for key in counts:
            counts[key] = 0
        action()
        assert counts == {"derive": derives, "evaluate": 1, "autosave": 1}, what
    # the table edit reached the marker (one command edited both) and undo walked everything back in order
    assert session.findings.pars_at(fm.Level.L5, fm.Side.LEFT).status is fm.ParsStatus.COMPLETE_FRACTURE
    assert session.annotation_store.annotations[0].status is fm.ParsStatus.COMPLETE_FRACTURE
