"""StudySession: intents -> findings -> signals, undo, files. No Qt."""

from __future__ import annotations

import sys

import pytest

from app.findings import io as fio, model as m
from app.session import StudySession

UID = "1.2.826.0.1.3680043.8.498.1"


@pytest.fixture
def session(tmp_path):
    s = StudySession(UID, data_dir=tmp_path / "autosave")
    yield s
    s.close()


def test_session_module_does_not_import_qt():
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", "import sys, app.session; print(any(k.startswith('PySide6') for k in sys.modules))"],
        capture_output=True, text=True, check=True,
    )
    assert out.stdout.strip() == "False"


def test_edit_pars_creates_entry_and_emits(session):
    seen = []
    session.findings_changed.connect(seen.append)
    session.edit_pars("L5", "left", status="complete_fracture", edema_present=True, gap_mm=2.0)
    p = session.findings.pars_at(m.Level.L5, m.Side.LEFT)
    assert p.status is m.ParsStatus.COMPLETE_FRACTURE
    assert p.mri_grade == 3 and p.ct_stage is m.CTStage.PROGRESSIVE
    assert len(seen) == 1 and seen[0] is session.findings
    assert session.findings.modified  # timestamped


def test_edema_sites_imply_present_and_absent_clears_sites(session):
    session.edit_pars("L4", "right", status="stress_reaction", edema_sites=["pars", "pedicle"])
    p = session.findings.pars_at("L4", "right")
    assert p.edema.present is True and p.edema.sites == {m.EdemaSite.PARS, m.EdemaSite.PEDICLE}
    session.edit_pars("L4", "right", status="complete_fracture")
    session.edit_pars("L4", "right", edema_present=False)
    p = session.findings.pars_at("L4", "right")
    assert p.edema.present is False and p.edema.sites == frozenset()
    assert p.mri_grade == 4


def test_status_none_removes_entry(session):
    session.edit_pars("L5", "right", status="incomplete_fracture")
    session.edit_pars("L5", "right", status=None)
    assert session.findings.pars_at("L5", "right") is None


def test_invalid_edit_raises_and_leaves_findings(session):
    session.edit_pars("L5", "left", status="intact")
    before = session.findings
    with pytest.raises(ValueError, match="L5 left"):
        session.edit_pars("L5", "left", gap_mm=3.0)  # a gap needs a fracture
    assert session.findings is before
    with pytest.raises(TypeError, match="unknown pars finding field"):
        session.edit_pars("L5", "left", colour="red")


def test_overrides_win_over_derived(session):
    session.edit_pars("L5", "left", status="complete_fracture", edema_present=True)
    session.edit_pars("L5", "left", mri_grade_override=4, ct_stage_override="terminal")
    p = session.findings.pars_at("L5", "left")
    assert p.mri_grade_derived == 3 and p.mri_grade == 4
    assert p.ct_stage is m.CTStage.TERMINAL


def test_edit_level_slip_and_grade(session):
    session.edit_level("L5", slip_percent=24.0, disc_pfirrmann=2)
    lv = session.findings.level("L5")
    assert lv.slip.grade is m.MeyerdingGrade.I and lv.slip.near_boundary
    assert lv.slip.technique is m.SlipTechnique.ENTERED
    session.edit_level("L5", slip_percent=40.0, slip_angle_deg=12.5)
    lv = session.findings.level("L5")
    assert lv.slip.grade is m.MeyerdingGrade.II and not lv.slip.near_boundary
    assert lv.slip.slip_angle_deg == 12.5 and lv.disc_pfirrmann == 2
    session.edit_level("L5", slip_percent=None)
    assert session.findings.level("L5").slip is None


def test_slip_angle_without_slip_is_refused(session):
    with pytest.raises(ValueError, match="percent slip first"):
        session.edit_level("L4", slip_angle_deg=10.0)
    assert session.findings.level("L4") is None


def test_context_and_impression(session):
    events = []
    session.findings_changed.connect(events.append)
    ctx = m.ClinicalContext(age_years=15, athlete=True, sport="gymnastics")
    session.set_context(ctx)
    assert session.context == ctx
    session.set_context(ctx)  # same value: no event
    session.edit_context(pain_vas=6.0)
    assert session.context.pain_vas == 6.0 and session.context.symptomatic is None
    session.set_impression("Bilateral L5 spondylolysis.")
    session.set_reader("Dr A")
    assert session.findings.impression.startswith("Bilateral") and session.findings.reader == "Dr A"
    assert len(events) == 4


def test_undo_redo(session):
    session.edit_pars("L5", "left", status="incomplete_fracture")
    session.edit_level("L5", slip_percent=10.0)
    assert session.history.can_undo
    session.undo()
    assert session.findings.level("L5") is None
    assert session.findings.pars_at("L5", "left") is not None
    session.undo()
    assert session.findings.pars_at("L5", "left") is None
    assert not session.undo()
    session.redo()
    session.redo()
    assert session.findings.level("L5").slip.percent == 10.0
    session.undo()
    session.edit_context(age_years=30)  # a new edit clears redo
    assert not session.history.can_redo


def test_save_open_roundtrip(session, tmp_path):
    session.edit_pars("L5", "left", status="complete_fracture", edema_present=False, gap_mm=4.0)
    session.edit_context(age_years=17.0, cauda_equina_symptoms=False)
    path = session.save(tmp_path / "f.json")
    other = StudySession(UID, autosave=False)
    other.open(path)
    assert other.findings.pars == session.findings.pars
    assert other.context == session.context
    assert other.path == path
    other.close()


def test_open_other_study_refused(session, tmp_path):
    p = tmp_path / "x.json"
    fio.save_findings(m.StudyFindings(study_instance_uid="9.9.9"), p)
    before = session.findings
    with pytest.raises(fio.FindingsFileError, match="not the open study"):
        session.open(p)
    assert session.findings is before


def test_open_bad_file_names_it(session, tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    with pytest.raises(fio.FindingsFileError, match=r"bad.json"):
        session.open(p)


def test_pathway_changed_emitted_on_every_change(session):
    results = []
    session.pathway_changed.connect(results.append)
    session.edit_context(age_years=15)
    session.edit_pars("L5", "left", status="stress_reaction")
    assert len(results) == 2
    assert results[-1] is session.pathway_result


# ------------------------------------------------------------------ autosave

def test_autosave_written_and_restored(tmp_path):
    from app.findings.autosave import load_autosave

    data = tmp_path / "data"
    s = StudySession(UID, data_dir=data)
    s.edit_pars("L5", "left", status="complete_fracture", edema_present=True)
    s.edit_context(age_years=16.0)
    s.autosave.flush()
    assert s.autosave.path is not None and s.autosave.path.exists()
    saved, _annotations = load_autosave(UID, data)
    assert saved.pars == s.findings.pars and saved.context.age_years == 16.0
    s.close()

    again = StudySession(UID, data_dir=data)
    assert again.findings.pars == ()
    events = []
    again.findings_changed.connect(events.append)
    assert again.restore() is True
    assert again.findings.pars_at("L5", "left").status is m.ParsStatus.COMPLETE_FRACTURE
    assert again.context.age_years == 16.0 and events
    assert not again.history.can_undo  # a restore is not an undo step
    again.close()


def test_restore_without_autosave_is_false(tmp_path):
    s = StudySession(UID, data_dir=tmp_path / "empty")
    assert s.restore() is False
    s.close()


def test_corrupt_autosave_does_not_stop_the_session(tmp_path):
    from app.findings.autosave import autosave_path

    data = tmp_path / "data"
    p = autosave_path(UID, data)
    p.parent.mkdir(parents=True)
    p.write_text("{broken")
    s = StudySession(UID, data_dir=data)
    assert s.restore() is False
    assert "not valid JSON" in s.autosave.error
    backups = list(p.parent.glob("*.unreadable-*.json"))
    assert len(backups) == 1 and backups[0].read_text() == "{broken"  # kept aside, never overwritten
    assert str(backups[0]) in s.autosave.notice
    s.edit_context(age_years=12.0)  # still works, in a new file
    s.autosave.flush()
    s.close()
    assert backups[0].read_text() == "{broken"
    again = StudySession(UID, data_dir=data, autosave=False)
    assert again.restore() and again.context.age_years == 12.0


def test_autosave_disabled(tmp_path):
    s = StudySession(UID, data_dir=tmp_path / "d", autosave=False)
    s.edit_context(age_years=12.0)
    s.autosave.flush()
    assert s.autosave.path is None and not (tmp_path / "d").exists()


# ------------------------------------------------------------------ annotations <-> findings

def _marker(level="L5", side="left", status="complete_fracture"):
    from app.annotations import model as am

    return am.ParsMarker(points_px=((5.0, 5.0),), level=level, side=side, status=status,
                         series_instance_uid="1.2", sop_instance_uid="1.2.3")


@pytest.fixture
def store():
    from app.annotations.store import AnnotationStore

    return AnnotationStore()


def test_session_creates_a_store_when_none_given(session):
    from app.annotations.store import AnnotationStore

    assert isinstance(session.annotation_store, AnnotationStore)


def test_annotation_change_rederives_findings_and_pathway(tmp_path, store):
    s = StudySession(UID, annotation_store=store, autosave=False)
    seen, results = [], []
    s.findings_changed.connect(seen.append)
    s.pathway_changed.connect(results.append)
    mk = store.add(_marker())
    p = s.findings.pars_at("L5", "left")
    assert p.status is m.ParsStatus.COMPLETE_FRACTURE
    assert [r.annotation_id for r in p.provenance] == [mk.id]
    assert seen and results
    assert s.history.can_undo  # one history: the drawing is the session's undo step too
    s.undo()
    assert s.findings.pars_at("L5", "left") is None
    s.redo()
    assert s.findings.pars_at("L5", "left") is not None
    store.remove(mk.id)
    assert s.findings.pars_at("L5", "left") is None  # derived-only finding withdrawn
    s.close()


def test_hand_entered_fields_survive_rederivation(store):
    s = StudySession(UID, annotation_store=store, autosave=False)
    store.add(_marker())
    s.edit_pars("L5", "left", edema_present=True, gap_mm=2.0)
    store.add(_marker(level="L4", side="right", status="stress_reaction"))
    p = s.findings.pars_at("L5", "left")
    assert p.edema.present is True and p.gap_mm == 2.0
    assert s.findings.pars_at("L4", "right") is not None
    s.close()


def test_table_status_edit_is_written_to_the_marker_and_undo_follows(store):
    s = StudySession(UID, annotation_store=store, autosave=False)
    mk = store.add(_marker(status="incomplete_fracture"))
    s.edit_pars("L5", "left", status="complete_fracture")
    assert store.get(mk.id).status is m.ParsStatus.COMPLETE_FRACTURE
    assert s.findings.pars_at("L5", "left").status is m.ParsStatus.COMPLETE_FRACTURE
    # session undo: the marker goes back too, and the finding stays derived from it
    assert s.undo()
    assert store.get(mk.id).status is m.ParsStatus.INCOMPLETE_FRACTURE
    p = s.findings.pars_at("L5", "left")
    assert p.status is m.ParsStatus.INCOMPLETE_FRACTURE and p.provenance
    assert s.redo()
    assert store.get(mk.id).status is m.ParsStatus.COMPLETE_FRACTURE
    # the store's own undo of the pushed edit also reaches the findings
    store.undo()
    assert s.findings.pars_at("L5", "left").status is m.ParsStatus.INCOMPLETE_FRACTURE
    s.close()


def test_close_disconnects_from_store(store):
    s = StudySession(UID, annotation_store=store, autosave=False)
    s.close()
    store.add(_marker())
    assert s.findings.pars_at("L5", "left") is None


def test_autosave_includes_annotations_and_restores_them(tmp_path, store):
    from app.annotations.store import AnnotationStore

    data = tmp_path / "data"
    s = StudySession(UID, annotation_store=store, data_dir=data)
    mk = store.add(_marker())
    s.edit_context(age_years=14.0)
    s.close()
    fresh = AnnotationStore()
    again = StudySession(UID, annotation_store=fresh, data_dir=data, autosave=False)
    assert again.restore()
    assert mk.id in fresh
    assert again.findings.pars_at("L5", "left").provenance[0].annotation_id == mk.id
    assert again.context.age_years == 14.0


def test_a_drawing_that_changes_no_finding_is_still_autosaved(tmp_path, store):
    """A length (or an ROI) derives no finding; the drawing must survive in the autosave anyway."""
    from app.annotations import model as am
    from app.annotations.store import AnnotationStore

    data = tmp_path / "data"
    s = StudySession(UID, annotation_store=store, data_dir=data)
    before = s.findings
    length = store.add(am.Length(points_px=((1.0, 1.0), (11.0, 1.0)), series_instance_uid="1.2",
                                 sop_instance_uid="1.2.3"))
    assert s.findings == before  # nothing to derive from a length
    s.close()
    fresh = AnnotationStore()
    again = StudySession(UID, annotation_store=fresh, data_dir=data, autosave=False)
    assert again.restore()
    assert length.id in fresh


def test_autosave_with_unreadable_annotations_is_set_aside_not_half_restored(tmp_path):
    """Findings readable, annotations document not: restoring the findings alone and autosaving
    would overwrite the reader's drawings, so the whole file is set aside and nothing restored."""
    import json

    from app.findings.autosave import AUTOSAVE_FORMAT, AUTOSAVE_VERSION, autosave_path

    data = tmp_path / "data"
    p = autosave_path(UID, data)
    p.parent.mkdir(parents=True)
    findings = fio.findings_to_dict(m.StudyFindings(study_instance_uid=UID, impression="kept"))
    text = json.dumps({"format": AUTOSAVE_FORMAT, "version": AUTOSAVE_VERSION, "study_instance_uid": UID,
                       "findings": findings, "annotations": ["not", "a", "document"]})
    p.write_text(text)
    s = StudySession(UID, data_dir=data)
    assert s.restore() is False
    assert s.findings.impression == ""
    backups = list(p.parent.glob("*.unreadable-*.json"))
    assert len(backups) == 1 and backups[0].read_text() == text
    assert "annotations document must be an object" in s.autosave.notice
    s.close()
