"""The session's patient/study checks and small findings rules as pure functions
(app.session_edits), and the autosave's annotation restore (app.session_autosave). No Qt."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from app.annotations.store import DOC_FORMAT, DOC_VERSION, AnnotationStore
from app.findings import autosave as fa, model as m
from app.findings.io import FindingsFileError
from app.findings.sr_discovery import FoundSR
from app.session_autosave import SessionAutosave
from app.session_edits import (
    SessionError,
    anonymise_headers,
    check_findings_study,
    check_sr_belongs,
    initial_findings,
    stamped,
)
from app.viewer.identity import PatientIdentity

OPEN_STUDY = "1.2.826.0.1.3680043.8.498.1"
PATIENT = PatientIdentity("SYN-0001", "DOE^JANE", "20080101", "F")


def _sr(findings: m.StudyFindings | None, patient_id: str = "SYN-0001", patient_name: str = "DOE^JANE",
        study_uid: str = OPEN_STUDY, problem: str = "") -> FoundSR:
    return FoundSR(path=Path("/data/sr1.dcm"), title="Isthmus findings", author="Dr A", date_time="",
                   manufacturer="Isthmus", patient_id=patient_id, patient_name=patient_name,
                   study_instance_uid=study_uid, sop_instance_uid="1.2.3.4", findings=findings, problem=problem)


def _findings(study_uid: str = OPEN_STUDY) -> m.StudyFindings:
    return m.StudyFindings(study_instance_uid=study_uid, impression="L5 spondylolysis")


# ------------------------------------------------------------------ check_sr_belongs
def test_sr_of_the_open_patient_and_study_gives_its_findings():
    f = _findings()
    assert check_sr_belongs(_sr(f), PATIENT, OPEN_STUDY) is f


def test_sr_without_isthmus_findings_is_refused_naming_file_and_problem():
    with pytest.raises(SessionError, match=r"sr1\.dcm: cannot map the template"):
        check_sr_belongs(_sr(None, problem="cannot map the template"), PATIENT, OPEN_STUDY)
    with pytest.raises(SessionError, match="not an Isthmus findings SR"):
        check_sr_belongs(_sr(None), PATIENT, OPEN_STUDY)


def test_sr_of_another_patient_is_refused_naming_both_ids():
    with pytest.raises(SessionError, match=r"patient ID OTHER-77, the open study to patient ID SYN-0001"):
        check_sr_belongs(_sr(_findings(), patient_id="OTHER-77"), PATIENT, OPEN_STUDY)
    # same ID, different recorded name: another patient too
    with pytest.raises(SessionError, match="refused"):
        check_sr_belongs(_sr(_findings(), patient_name="ROE^MARY"), PATIENT, OPEN_STUDY)


def test_sr_without_patient_id_is_refused_when_the_open_study_has_one():
    with pytest.raises(SessionError, match=r"patient ID \(none\)"):
        check_sr_belongs(_sr(_findings(), patient_id="", patient_name=""), PATIENT, OPEN_STUDY)


def test_any_patient_is_accepted_when_the_session_knows_none():
    f = _findings()
    assert check_sr_belongs(_sr(f, patient_id="OTHER-77"), None, OPEN_STUDY) is f


@pytest.mark.parametrize(("header_uid", "findings_uid"), [("9.9.9", OPEN_STUDY), (OPEN_STUDY, "9.9.9")])
def test_sr_about_another_study_is_refused_naming_both_studies(header_uid, findings_uid):
    with pytest.raises(SessionError, match=rf"about study 9\.9\.9, not the open study {OPEN_STUDY}"):
        check_sr_belongs(_sr(_findings(findings_uid), study_uid=header_uid), PATIENT, OPEN_STUDY)


def test_sr_without_study_uids_or_session_without_one_passes_the_study_check():
    f = _findings("")
    assert check_sr_belongs(_sr(f, study_uid=""), PATIENT, OPEN_STUDY) is f
    g = _findings("9.9.9")
    assert check_sr_belongs(_sr(g, study_uid="9.9.9"), PATIENT, "") is g


# ------------------------------------------------------------------ check_findings_study
def test_findings_file_of_another_study_is_refused_naming_file_and_both_studies(tmp_path):
    path = tmp_path / "other.isthmus.json"
    with pytest.raises(FindingsFileError, match=rf"other\.isthmus\.json: .*study 9\.9\.9, not the open study {OPEN_STUDY}"):
        check_findings_study(_findings("9.9.9"), OPEN_STUDY, path)


def test_findings_file_of_this_study_or_without_uid_is_accepted(tmp_path):
    check_findings_study(_findings(), OPEN_STUDY, tmp_path / "a.json")
    check_findings_study(_findings(""), OPEN_STUDY, tmp_path / "a.json")
    check_findings_study(_findings("9.9.9"), "", tmp_path / "a.json")


# ------------------------------------------------------------------ small findings rules
def test_initial_findings_fill_the_study_uid_only_where_missing():
    assert initial_findings(None, OPEN_STUDY) == m.StudyFindings(study_instance_uid=OPEN_STUDY)
    given = _findings("")
    filled = initial_findings(given, OPEN_STUDY)
    assert filled.study_instance_uid == OPEN_STUDY and filled.impression == given.impression
    own = _findings("9.9.9")
    assert initial_findings(own, OPEN_STUDY) is own


def test_stamped_sets_modified_in_utc_seconds_and_keeps_the_first_created():
    now = datetime.datetime(2026, 3, 1, 14, 30, 5, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    new = stamped(_findings(), now)
    assert new.modified == "2026-03-01T12:30:05+00:00" and new.created == new.modified
    old = dataclasses.replace(_findings(), created="2025-01-01T00:00:00+00:00")
    assert stamped(old, now).created == "2025-01-01T00:00:00+00:00"


def test_anonymise_headers_blanks_name_id_and_birth_date_only():
    ds = Dataset()
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.SeriesInstanceUID = "DOE^JANE", "SYN-0001", "20080101", "1.2"
    anonymise_headers([ds])
    assert (str(ds.PatientName), ds.PatientID, ds.PatientBirthDate) == ("ANONYMISED^", "ANONYMISED", "")
    assert ds.SeriesInstanceUID == "1.2"


# ------------------------------------------------------------------ autosave: annotations restore
def _autosave_with_file(tmp_path: Path) -> tuple[SessionAutosave, Path]:
    path = fa.autosave_path("study-key", tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}", encoding="utf-8")
    return SessionAutosave("study-key", tmp_path, PATIENT, enabled=False), path


def test_unreadable_annotations_document_sets_the_autosave_aside(tmp_path):
    autosave, path = _autosave_with_file(tmp_path)
    assert autosave.load_annotations(AnnotationStore(), {"format": "something else", "version": 1}) is False
    assert not path.exists() and "kept as" in autosave.notice and "not an annotations document" in autosave.notice


def test_annotations_document_with_a_bad_entry_loads_the_rest_and_says_which(tmp_path):
    autosave, path = _autosave_with_file(tmp_path)
    store = AnnotationStore()
    doc = {"format": DOC_FORMAT, "version": DOC_VERSION, "annotations": [{"kind": "no-such-kind"}]}
    assert autosave.load_annotations(store, doc) is True
    assert path.exists() and "annotation #1 skipped" in autosave.notice and len(store.saved_items()) == 0


# ------------------------------------------------------------------ undo step, ruleset
def test_findings_edit_replays_its_annotation_steps_paused_and_shows_before_or_after():
    from contextlib import contextmanager

    from app.annotations import model as am
    from app.session_edits import FindingsEdit

    store, shown, paused_during = AnnotationStore(), [], []
    depth = [0]

    @contextmanager
    def paused():
        depth[0] += 1
        try:
            yield
        finally:
            depth[0] -= 1

    def apply(f: m.StudyFindings) -> None:
        shown.append(f.impression)

    store.events.added.connect(lambda *_: paused_during.append(depth[0]))
    store.events.removed.connect(lambda *_: paused_during.append(depth[0]))
    with store.history.capture() as steps:
        marker = store.add(am.ParsMarker(points_px=((5.0, 5.0),), level="L5", side="left",
                                         status="complete_fracture", series_instance_uid="1.2",
                                         sop_instance_uid="1.2.1"))
    paused_during.clear()
    before, after = _findings(), dataclasses.replace(_findings(), impression="after")
    step = FindingsEdit(apply, paused, before, after, "edit L5", steps)
    step.redo()  # first time: the marker was already added, only the findings are shown
    assert shown == ["after"] and marker.id in store and paused_during == []
    step.undo()
    assert shown[-1] == "L5 spondylolysis" and marker.id not in store
    step.redo()
    assert shown[-1] == "after" and marker.id in store
    assert paused_during and all(d == 1 for d in paused_during) and step.text == "edit L5"


def test_default_ruleset_loads_the_bundled_rules_without_an_error():
    from app.pathway import Ruleset
    from app.session_edits import load_default_ruleset

    ruleset, error = load_default_ruleset()
    assert isinstance(ruleset, Ruleset) and error == ""


def test_annotations_document_loads_back_into_a_new_store(tmp_path):
    from app.annotations import model as am
    from app.session_autosave import annotations_document

    store = AnnotationStore()
    length = store.add(am.Length(points_px=((1.0, 1.0), (9.0, 1.0)), series_instance_uid="1.2",
                                 sop_instance_uid="1.2.1"))
    doc = annotations_document(store)
    plain = {**doc.head, doc.key: [doc.item_to_dict(i) for i in doc.items]}
    again = AnnotationStore()
    autosave, _ = _autosave_with_file(tmp_path)
    assert autosave.load_annotations(again, plain) is True and autosave.notice == ""
    assert [a.id for a in again.saved_items()] == [length.id]
