"""ClinicalContextForm: edits reach session.context live; unknown stays None."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt

from app.findings import model as m
from app.session import StudySession
from app.ui.context import ALL_FIELDS, ClinicalContextForm

pytestmark = pytest.mark.gui

UID = "1.2.826.0.1.3680043.8.498.78"


@pytest.fixture
def session(tmp_path):
    s = StudySession(UID, data_dir=tmp_path / "autosave")
    yield s
    s.close()


@pytest.fixture
def form(qtbot, session):
    w = ClinicalContextForm(session)
    qtbot.addWidget(w)
    yield w
    w.cleanup()


def _pick(combo, label):
    i = combo.findText(label)
    assert i >= 0, label
    combo.setCurrentIndex(i)


def test_every_context_and_imaging_field_has_a_widget(form):
    names = {f.name for f in dataclasses.fields(m.ClinicalContext)} - {"from_dicom"}  # shown as badges
    names |= {f.name for f in dataclasses.fields(m.ImagingPerformed)}
    assert names == {f.name for f in ALL_FIELDS} == set(form.widgets)


def test_starts_unknown(form, session):
    assert session.context == m.ClinicalContext()
    assert form.widgets["cauda_equina_symptoms"].currentText().startswith("?")
    assert form.widgets["age_years"].text() == ""


def test_tri_state_edit_and_back_to_unknown(form, session):
    combo = form.widgets["cauda_equina_symptoms"]
    _pick(combo, "yes")
    assert session.context.cauda_equina_symptoms is True
    _pick(combo, "no")
    assert session.context.cauda_equina_symptoms is False
    _pick(combo, "? unknown")
    assert session.context.cauda_equina_symptoms is None


def test_choice_fields(form, session):
    _pick(form.widgets["neuro_deficit"], "progressive")
    _pick(form.widgets["pars_block"], "not done")
    assert session.context.neuro_deficit is m.NeuroDeficit.PROGRESSIVE
    assert session.context.pars_block is m.ParsBlock.NOT_DONE  # "not done" is not unknown


def test_numbers_typed_and_empty_is_unknown_not_zero(form, session, qtbot):
    edit = form.widgets["age_years"]
    qtbot.keyClicks(edit, "15")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert session.context.age_years == 15.0
    edit.clear()
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert session.context.age_years is None
    vas = form.widgets["pain_vas"]
    qtbot.keyClicks(vas, "0")
    form.commit_pending()
    assert session.context.pain_vas == 0.0  # a real zero is kept as zero
    assert session.context.odi is None  # untouched numbers stay unknown


def test_number_commits_after_typing_pause(form, session, qtbot):
    qtbot.keyClicks(form.widgets["conservative_care_months"], "6")
    qtbot.waitUntil(lambda: session.context.conservative_care_months == 6.0, timeout=2000)


def test_out_of_range_is_refused_and_marked(form, session, qtbot):
    edit = form.widgets["pain_vas"]
    qtbot.keyClicks(edit, "14")
    form.commit_pending()
    assert session.context.pain_vas is None
    assert "VAS" in form.message_label.text()
    edit.clear()
    qtbot.keyClicks(edit, "abc")
    form.commit_pending()
    assert session.context.pain_vas is None and "not a number" in form.message_label.text()


def test_session_change_redraws_form(form, session):
    session.set_context(m.ClinicalContext(age_years=22.5, athlete=True, sport="cricket", pars_block=m.ParsBlock.POSITIVE))
    assert form.widgets["age_years"].text() == "22.5"
    assert form.widgets["athlete"].currentText() == "yes"
    assert form.widgets["sport"].text() == "cricket"
    assert form.widgets["pars_block"].currentText() == "positive"
    session.undo()
    assert form.widgets["age_years"].text() == ""
    assert form.widgets["athlete"].currentText().startswith("?")


def test_clear_all(form, session):
    session.set_context(m.ClinicalContext(smoking=True, odi=40))
    form.clear_button.click()
    assert session.context == m.ClinicalContext()


def test_unknown_is_muted_and_red_flag_is_red(form):
    combo = form.widgets["cauda_equina_symptoms"]
    assert "italic" in combo.styleSheet()
    _pick(combo, "yes")
    assert "#ff5252" in combo.styleSheet()
    _pick(combo, "no")
    assert combo.styleSheet() == ""


def test_groups_reflow_to_one_column_when_narrow(form, qtbot):
    form.resize(900, 600)
    form.show()
    qtbot.waitUntil(lambda: form._columns == 2)
    form.resize(480, 900)
    qtbot.waitUntil(lambda: form._columns == 1)
    {box.geometry().x() for box in form._boxes}
    qtbot.waitUntil(lambda: len({box.geometry().x() for box in form._boxes}) == 1)


# ------------------------------------------------------------------ schema 2 fields

def test_sex_sport_level_and_severe_deficit(form, session):
    _pick(form.widgets["sex"], "female")
    _pick(form.widgets["sport_level"], "competitive")
    _pick(form.widgets["neuro_deficit"], "severe")
    ctx = session.context
    assert (ctx.sex, ctx.sport_level, ctx.neuro_deficit) == (m.Sex.FEMALE, m.SportLevel.COMPETITIVE, m.NeuroDeficit.SEVERE)
    assert "#ff5252" in form.widgets["neuro_deficit"].styleSheet()  # escalates like progressive: a red flag
    _pick(form.widgets["sex"], "? unknown")
    assert session.context.sex is None


def test_imaging_performed_edits_the_findings_not_the_context(form, session):
    _pick(form.widgets["ct"], "yes")
    _pick(form.widgets["flexion_extension"], "no")
    assert session.findings.imaging == m.ImagingPerformed(ct=True, flexion_extension=False)
    assert session.context == m.ClinicalContext()
    session.undo()
    assert session.findings.imaging == m.ImagingPerformed(ct=True)
    assert form.widgets["flexion_extension"].currentText().startswith("?")
    session.set_findings(dataclasses.replace(session.findings, imaging=m.ImagingPerformed(mri=False)))
    assert form.widgets["mri"].currentText() == "no" and form.widgets["ct"].currentText().startswith("?")


def test_from_dicom_fields_are_marked_and_editing_makes_them_the_readers(form, session, qtbot):
    form.show()
    assert not any(b.isVisible() for b in form.dicom_badges.values())
    session.set_context(m.ClinicalContext(age_years=44, sex="M", from_dicom=frozenset({"age_years", "sex"})))
    assert form.widgets["age_years"].text() == "44" and form.widgets["sex"].currentText() == "male"
    assert form.dicom_badges["age_years"].isVisible() and form.dicom_badges["sex"].isVisible()
    assert form.dicom_badges["sex"].text() == "from DICOM"
    edit = form.widgets["age_years"]
    edit.clear()
    qtbot.keyClicks(edit, "45")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert session.context.age_years == 45.0 and session.context.from_dicom == {"sex"}
    assert not form.dicom_badges["age_years"].isVisible() and form.dicom_badges["sex"].isVisible()
    _pick(form.widgets["sex"], "female")
    assert session.context.sex is m.Sex.FEMALE and session.context.from_dicom == frozenset()
    assert not form.dicom_badges["sex"].isVisible()
    session.undo()  # undo brings the header value and its badge back
    assert session.context.sex is m.Sex.MALE and form.dicom_badges["sex"].isVisible()
