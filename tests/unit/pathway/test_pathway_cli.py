"""`isthmus pathway FILE [--json] [--set NAME=VALUE ...]` on synthetic findings files."""

from __future__ import annotations

import json

import pytest
from pathway_builders import SURGICAL_CONTEXT, chronic_l5

from app.cli import main
from app.findings.io import save_findings
from app.pathway import DISCLAIMER
from app.pathway.examples import STORIES, build


@pytest.fixture()
def story_files(tmp_path):
    paths = {}
    for name, fn in STORIES.items():
        p = tmp_path / f"{name}.json"
        save_findings(fn(), p)
        paths[name] = p
    return paths


EXPECTED_TIER = {
    "case01_normal_adolescent_athlete": "conservative",
    "case02_bilateral_l5_stress_reaction": "conservative",
    "case03_bilateral_l5_active_fractures": "conservative",
    "case04_adult_chronic_grade1": "interventional",
    "case05_unilateral_l4_contralateral_terminal": "conservative",
    "case06_adult_grade2": "surgical",
}


@pytest.mark.parametrize("name", sorted(STORIES))
def test_text_output_per_story(name, story_files, capsys):
    assert main(["pathway", str(story_files[name])]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == DISCLAIMER
    assert f"TIER: {EXPECTED_TIER[name].upper()}" in out
    for heading in ("STAGE", "PLAN", "CRITERIA", "SOURCES"):
        assert heading in out


@pytest.mark.parametrize("name", sorted(STORIES))
def test_json_output_per_story(name, story_files, capsys):
    assert main(["pathway", str(story_files[name]), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["tier"] == EXPECTED_TIER[name]
    assert doc["disclaimer"] == DISCLAIMER
    assert all(r["citations"] for r in doc["recommendations"])


def test_story_plans_are_sensible(story_files, capsys):
    def ids(name):
        main(["pathway", str(story_files[name]), "--json"])
        return [r["id"] for r in json.loads(capsys.readouterr().out)["recommendations"]]
    assert "antilordotic-brace" in ids("case02_bilateral_l5_stress_reaction")
    assert "ct-confirm-union" in ids("case03_bilateral_l5_active_fractures")
    assert "antilordotic-brace" not in ids("case04_adult_chronic_grade1")
    assert "antilordotic-brace" not in ids("case01_normal_adolescent_athlete")
    c6 = ids("case06_adult_grade2")
    assert c6[0] == "surgical-evaluation" and "decompression-and-fusion" in c6 and "direct-pars-repair" not in c6


def test_set_overrides_a_threshold(tmp_path, capsys):
    p = tmp_path / "f.json"
    save_findings(chronic_l5(age_years=40, **{**SURGICAL_CONTEXT, "conservative_care_months": 3}), p)
    main(["pathway", str(p), "--json"])
    assert json.loads(capsys.readouterr().out)["tier"] == "interventional"
    assert main(["pathway", str(p), "--json", "--set", "conservative_care_min_months=3"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["tier"] == "surgical" and doc["settings"]["conservative_care_min_months"] == 3


def test_bad_setting_is_a_clear_error(tmp_path, capsys):
    p = tmp_path / "f.json"
    save_findings(build(), p)
    assert main(["pathway", str(p), "--set", "nonsense=3"]) == 2
    assert "unknown setting 'nonsense'" in capsys.readouterr().err
    assert main(["pathway", str(p), "--set", "repair_age_max_years"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err


def test_missing_or_bad_file(tmp_path, capsys):
    assert main(["pathway", str(tmp_path / "nope.json")]) == 2
    assert "file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert main(["pathway", str(bad)]) == 2
    assert "bad.json" in capsys.readouterr().err


def test_bad_ruleset_path(tmp_path, capsys):
    p = tmp_path / "f.json"
    save_findings(build(), p)
    assert main(["pathway", str(p), "--rules", str(tmp_path)]) == 2
    assert "manifest not found" in capsys.readouterr().err


def test_list_settings(tmp_path, capsys):
    assert main(["pathway", "x.json", "--list-settings"]) == 0
    out = capsys.readouterr().out
    assert "conservative_care_min_months = 6" in out and "repair_age_max_years = 25" in out


def test_trace_flag(story_files, capsys):
    main(["pathway", str(story_files["case02_bilateral_l5_stress_reaction"]), "--trace"])
    out = capsys.readouterr().out
    assert "TRACE" in out and "MG-1-active-lesion-growing: fired" in out and "= unknown" in out
