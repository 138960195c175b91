"""The pathway on the sample cases' reference reads (app.samples builds them in memory, and
sample_dicom/caseNN_*/reference_read.json when the samples have been rendered)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.pathway import evaluate
from pathway_builders import ruleset

generate = pytest.importorskip("app.samples.generate")
cases = pytest.importorskip("app.samples.cases")


def _result(number: int):
    return evaluate(generate.reference_read(cases.case_by_number(number)), ruleset())


def test_case1_normal_athlete_gets_no_pars_treatment():
    r = _result(1)
    assert r.tier in ("conservative", "no-treatment")
    assert "antilordotic-brace" not in r.recommendation_ids
    assert "no-pars-lesion" in {c.id for c in r.cautions}


@pytest.mark.parametrize("number", [2, 3])
def test_active_adolescent_lesions_get_union_directed_care(number):
    r = _result(number)
    assert r.tier == "conservative"
    for rec in ("activity-modification", "antilordotic-brace", "flexion-core-stabilisation", "mri-follow-up", "ct-confirm-union"):
        assert rec in r.recommendation_ids
    assert any(p.union for lv in r.levels for p in lv.pars)


def test_case4_adult_chronic_no_brace_no_surgery():
    r = _result(4)
    assert r.tier in ("conservative", "interventional")
    assert "antilordotic-brace" not in r.recommendation_ids
    assert "surgical-evaluation" not in r.recommendation_ids


def test_case5_contralateral_terminal_caution():
    r = _result(5)
    assert "union-unlikely-contralateral-terminal" in {c.id for c in r.cautions}


def test_case6_grade2_never_direct_repair():
    r = _result(6)
    assert "direct-pars-repair" not in r.recommendation_ids
    assert r.tier in ("interventional", "surgical")


SAMPLES = Path(__file__).resolve().parents[3] / "sample_dicom"


@pytest.mark.parametrize("read", sorted(SAMPLES.glob("case*/reference_read.json")) or [None])
def test_cli_on_rendered_reference_reads(read, capsys):
    if read is None:
        pytest.skip("sample_dicom has not been rendered")
    from app.cli import main

    assert main(["pathway", str(read)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("DECISION SUPPORT") and "TIER:" in out and "PLAN" in out
