"""PathwayPanel: disclaimer always, tier badge, red flags in red, why? with citations."""

from __future__ import annotations

import pytest

from app.core.events import Event
from app.findings import model as m
from app.pathway import result as pr
from app.session import StudySession
from app.ui.pathway import PathwayPanel
from app.ui.pathway.panel import RED, TIER_COLOURS

pytestmark = pytest.mark.gui

UID = "1.2.826.0.1.3680043.8.498.79"


def _settle(qtbot, panel):
    """Wait for the throttled redraw (the panel redraws at most every 120 ms)."""
    qtbot.waitUntil(lambda: not panel._render_timer.isActive(), timeout=2000)


class _ResultHolder:
    """The two things PathwayPanel reads from a session: the result and its signal."""

    def __init__(self, result=None):
        self.pathway_changed = Event("pathway_changed")
        self.pathway_result = result
        self.pathway_error = ""

    def show(self, result):
        self.pathway_result = result
        self.pathway_changed.emit(result)


def _built_result(tier="urgent", red_flags=True):
    cit = pr.Citation("sakai2010", "Sakai T et al. Spine 2010;35:E641", "V", pmid="20195200")
    alt = pr.Citation("seed-1", "Seed document (unverified)", "U", kind="seed")
    dis = pr.Disagreement("D-CC", "Duration of conservative care before surgery", "disputed",
                          (pr.Position("6 months", "V", ("sakai2010",)), pr.Position("3-4 months", "U", ("seed-1",))),
                          "6 months", setting="cc_months_min", value_used=6)
    rec = pr.Recommendation("brace", "Stop sport; rigid brace and physiotherapy", "conservative", ("MG-1",),
                            ("Active lesions in adolescents mostly heal with rest",), {"age_years": 15.0},
                            (cit,), (), (pr.DisputedNote("D-CC", "duration of care is disputed"),))
    flags = (pr.Note("RF-1", "Suspected cauda equina: urgent assessment and MRI", "urgent", ("RF-1",)),) if red_flags else ()
    cl = pr.Checklist("sx", "Surgical referral", "unknown", (
        pr.Criterion("a", "Six months of care", "unknown", True),
        pr.Criterion("b", "Lesion confirmed", "met", True),
        pr.Criterion("c", "Positive pars block", "unmet", True)))
    u = pr.UnionEstimate("k24", "Kuroshima 2024", "unilateral progressive", 64.3, "9/14", True)
    ps = pr.ParsStage("L5", "left", "complete_fracture", "active", 3, "3", "progressive", "derived", "intact", None, (u,))
    lv = pr.LevelStage("L5", "left", "L5 left", 24.0, "I", True, pars=(ps,))
    return pr.PathwayResult(pr.DISCLAIMER, "isthmus-core", "9.8.7", "0123456789abcdef", {}, (lv,), ("L5 left progressive",),
                            tier, ("RF-1",), (rec,), (cl,), flags, (), (pr.MissingItem("pars_block", "Diagnostic pars block",
                            ("SX-1",), ("refer",), "surgical"),), (dis,), (cit, alt), ())


@pytest.fixture
def holder_panel(qtbot):
    h = _ResultHolder()
    p = PathwayPanel(h)
    qtbot.addWidget(p)
    p.show()
    return h, p


def test_disclaimer_always_visible(holder_panel, qtbot):
    h, p = holder_panel
    assert p.disclaimer_label.isVisible() and "not a diagnosis" in p.disclaimer_label.text()
    h.show(_built_result())
    _settle(qtbot, p)
    assert p.disclaimer_label.isVisible() and "not a diagnosis" in p.disclaimer_label.text().lower()
    assert "sources" in p.disclaimer_label.text()
    h.show(None)
    _settle(qtbot, p)
    assert p.disclaimer_label.isVisible() and "not a diagnosis" in p.disclaimer_label.text().lower()


def test_built_result_tier_badge_and_red_flags(holder_panel, qtbot):
    h, p = holder_panel
    h.show(_built_result())
    _settle(qtbot, p)
    assert p.tier_badge.text().startswith("URGENT")
    assert TIER_COLOURS["urgent"][0] in p.tier_badge.styleSheet()
    assert len(p.red_flag_labels) == 1
    assert "cauda equina" in p.red_flag_labels[0].text()
    assert RED in p.red_flag_labels[0].styleSheet()
    text = p.all_text()
    assert "✓" in text and "✗" in text and "Positive pars block" in text
    assert "Diagnostic pars block" in text and "surgical" in text.lower()  # missing data
    assert "64 %" in text and "Kuroshima 2024" in text  # union with cohort
    assert "9.8.7" in p.footer_label.text()  # ruleset version


def test_why_shows_rule_facts_citations_and_disputes(holder_panel, qtbot):
    h, p = holder_panel
    h.show(_built_result())
    _settle(qtbot, p)
    item = p.item_for("brace")
    assert not item.details.isVisible()
    item.why_button.click()
    assert item.details.isVisible()
    d = item.details.text()
    assert "MG-1" in d and "age_years" in d and "Sakai T et al." in d and "PMID 20195200" in d
    assert "Disputed" in d and "3-4 months" in d and "Seed document" in d  # alternative with its source
    h.show(_built_result(tier="surgical"))  # a different result: updated in place, the expander stays open
    _settle(qtbot, p)
    assert p.tier_badge.text().startswith("SURGICAL") and p.item_for("brace").rec == h.pathway_result.recommendations[0]
    assert p.item_for("brace").details.isVisible()


def test_no_red_flags_section_when_none(holder_panel, qtbot):
    h, p = holder_panel
    h.show(_built_result(tier="conservative", red_flags=False))
    _settle(qtbot, p)
    assert p.red_flag_labels == [] and "RED FLAGS" not in p.all_text()
    assert p.tier_badge.text().startswith("CONSERVATIVE")


# ------------------------------------------------------------------ with the real engine and ruleset

def _findings(**ctx):
    return m.StudyFindings(
        study_instance_uid=UID,
        pars=(m.ParsFinding("L5", "left", "complete_fracture", m.Edema(True)),
              m.ParsFinding("L5", "right", "intact", m.Edema(False))),
        levels=(m.LevelFinding("L5", m.Slip(10.0), disc_pfirrmann=2),),
        context=m.ClinicalContext(age_years=15, symptomatic=True, **ctx),
    )


@pytest.fixture
def session(tmp_path):
    s = StudySession(UID, _findings(), data_dir=tmp_path / "autosave")
    assert s.ruleset is not None, s.pathway_error
    yield s
    s.close()


@pytest.fixture
def panel(qtbot, session):
    p = PathwayPanel(session)
    qtbot.addWidget(p)
    p.show()
    yield p
    p.cleanup()


def test_cauda_equina_gives_urgent_tier_and_red_flags(session, panel, qtbot):
    assert not panel.tier_badge.text().startswith("URGENT")
    session.edit_context(cauda_equina_symptoms=True)
    assert session.pathway_result.tier == "urgent"
    qtbot.waitUntil(lambda: panel.tier_badge.text().startswith("URGENT"), timeout=2000)  # live update
    assert panel.red_flag_labels and all(RED in lab.styleSheet() for lab in panel.red_flag_labels)
    assert panel.disclaimer_label.isVisible()
    session.edit_context(cauda_equina_symptoms=None)
    _settle(qtbot, panel)
    assert not panel.tier_badge.text().startswith("URGENT") and panel.red_flag_labels == []


def test_real_recommendation_why_shows_its_citations(session, panel):
    items = [i for i in panel.recommendation_items if i.rec.citations]
    assert items, "expected at least one recommendation with citations"
    item = items[0]
    item.why_button.click()
    assert item.details.isVisible()
    for c in item.rec.citations:
        assert c.text.split()[0] in item.details.text()
    for rule in item.rec.rules:
        assert rule in item.details.text()


def test_ruleset_version_shown(session, panel):
    assert session.pathway_result.ruleset_version in panel.footer_label.text()


def test_redraws_are_throttled_and_skip_unchanged_results(session, panel, qtbot):
    shown = panel.scroll.widget()
    session.set_impression("text that does not change the pathway")
    _settle(qtbot, panel)
    assert panel.scroll.widget() is shown  # same result: no redraw
    for pct in (20.0, 21.0, 22.0, 23.0, 24.0):  # a burst, like dragging a landmark
        session.edit_level("L5", slip_percent=pct)
    _settle(qtbot, panel)
    assert panel.result is session.pathway_result
    assert "24 %" in panel.all_text()


def test_hidden_panel_redraws_when_shown(session, panel, qtbot):
    panel.hide()
    session.edit_context(cauda_equina_symptoms=True)
    assert not panel._render_timer.isActive()  # nothing drawn while hidden
    panel.show()
    assert panel.tier_badge.text().startswith("URGENT")


# evaluation speed is measured in bench/pathway_bench.py, not asserted here (no timing asserts in unit tests)


# ------------------------------------------------------------------ unknown is not normal (issue 9)

def _with_criteria_status(result, status):
    import dataclasses

    cls = [dataclasses.replace(cl, status=status, criteria=tuple(dataclasses.replace(c, status=status)
                                                                  for c in cl.criteria)) for cl in result.checklists]
    return dataclasses.replace(result, checklists=tuple(cls))


def test_unassessed_criteria_show_a_grey_question_mark_never_a_tick(qtbot, tmp_path):
    from app.pathway import evaluate, load_ruleset
    from app.session import StudySession
    from app.ui.pathway import PathwayPanel, panel as pp

    s = StudySession(UID, _findings(), data_dir=tmp_path / "autosave")
    r = evaluate(s.findings, load_ruleset())
    assert r.checklists, "the ruleset has criteria checklists"
    s.pathway_result = _with_criteria_status(r, "unknown")
    panel = PathwayPanel(s)
    qtbot.addWidget(panel)
    panel.flush()
    text = panel.all_text()
    assert "✓" not in text and "? " in text and "not assessed" in text
    assert pp.STATUS_MARK["unknown"] == ("?", pp.GREY)
    s.close()


def test_insufficient_read_headline_lists_what_to_assess_first(qtbot, tmp_path):
    import dataclasses

    from app.pathway import evaluate, load_ruleset
    from app.session import StudySession
    from app.ui.pathway import PathwayPanel

    s = StudySession(UID, data_dir=tmp_path / "autosave")
    s.pathway_result = dataclasses.replace(evaluate(s.findings, load_ruleset()), tier="insufficient")
    panel = PathwayPanel(s)
    qtbot.addWidget(panel)
    panel.flush()
    assert panel.tier_badge.text().startswith("Findings insufficient")
    assert "NO TREATMENT" not in panel.all_text() and "Assess" in panel.all_text()
    s.close()


def test_numbers_are_rounded_for_clinicians():
    from app.pathway.html import fmt_value

    assert fmt_value(19.5652) == "20" and fmt_value(2.345) == "2.3" and fmt_value(3.0) == "3"


def test_a_changed_result_updates_only_its_changed_block_in_place(holder_panel, qtbot):
    import dataclasses

    from PySide6.QtWidgets import QLabel

    h, p = holder_panel
    first = _built_result()
    h.show(first)
    _settle(qtbot, p)
    summary = next(lab for lab in p.scroll.widget().findChildren(QLabel) if lab.objectName() == "summary")
    flag = p.red_flag_labels[0]
    h.show(dataclasses.replace(first, summary=("L5 left terminal, non-union",)))
    _settle(qtbot, p)
    assert p.blocks_updated == 1
    assert "terminal, non-union" in summary.text() and summary.isVisibleTo(p)  # the same widget, new text
    assert p.red_flag_labels[0] is flag and "cauda equina" in flag.text()
    assert "terminal, non-union" in p.all_text() and "L5 left progressive" not in p.all_text()
