"""load_ruleset: the bundled ruleset is valid; broken rule files give clear errors naming the
file and the rule."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from app.pathway import RulesetError, load_ruleset
from app.pathway.rules import default_ruleset_dir
from app.pathway.settings import SettingError

SEEDS_DIR = Path("/work/shared/seeds")


@pytest.fixture()
def rules_copy(tmp_path):
    dst = tmp_path / "pathway"
    shutil.copytree(default_ruleset_dir(), dst)
    return dst


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")


MINIMAL_RULE = '''
[[rule]]
id = "{id}"
when = "{pred}"
cautions = ["smoking"]
rationale = "test"
sources = {sources}
evidence = "V"
'''


def test_bundled_ruleset_loads_with_version_and_hash():
    rs = load_ruleset()
    assert rs.id == "isthmus-pars-pathway"
    assert re.fullmatch(r"\d+\.\d+\.\d+", rs.version)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", rs.hash)
    assert len(rs.rules) >= 40
    assert load_ruleset(default_ruleset_dir() / "pathway.toml").hash == rs.hash


def test_hash_changes_with_content(rules_copy):
    before = load_ruleset(rules_copy).hash
    _append(rules_copy / "rules" / "cautions.toml", "# a reviewed comment")
    assert load_ruleset(rules_copy).hash != before


def test_unknown_predicate_names_file_and_rule(rules_copy):
    _append(rules_copy / "rules" / "cautions.toml",
            MINIMAL_RULE.format(id="X-1", pred="no_such_predicate", sources='["seed-003"]'))
    with pytest.raises(RulesetError) as err:
        load_ruleset(rules_copy)
    msg = str(err.value)
    assert "cautions.toml" in msg and "X-1" in msg and "unknown predicate 'no_such_predicate'" in msg


def test_missing_citations(rules_copy):
    _append(rules_copy / "rules" / "cautions.toml", MINIMAL_RULE.format(id="X-2", pred="smoking", sources="[]"))
    with pytest.raises(RulesetError, match=r"cautions\.toml: rule 'X-2': missing citations"):
        load_ruleset(rules_copy)


def test_unknown_source_id(rules_copy):
    _append(rules_copy / "rules" / "cautions.toml", MINIMAL_RULE.format(id="X-3", pred="smoking", sources='["nobody-2099"]'))
    with pytest.raises(RulesetError, match=r"rule 'X-3': unknown source 'nobody-2099'"):
        load_ruleset(rules_copy)


def test_duplicate_rule_id_across_files(rules_copy):
    _append(rules_copy / "rules" / "imaging.toml",
            MINIMAL_RULE.format(id="PIT-2-smoking", pred="smoking", sources='["seed-003"]'))
    with pytest.raises(RulesetError, match=r"rule 'PIT-2-smoking': duplicate rule id"):
        load_ruleset(rules_copy)


def test_unknown_setting_reference_and_bad_parameter(rules_copy):
    _append(rules_copy / "rules" / "cautions.toml", '''
[[rule]]
id = "X-4"
when = { pred = "age_at_most", years = "$no_such_setting" }
cautions = ["smoking"]
rationale = "t"
sources = ["seed-003"]
evidence = "V"

[[rule]]
id = "X-5"
when = { pred = "age_at_most", months = 3 }
cautions = ["smoking"]
rationale = "t"
sources = ["seed-003"]
evidence = "V"
''')
    with pytest.raises(RulesetError) as err:
        load_ruleset(rules_copy)
    problems = err.value.problems
    assert any("X-4" in p and "unknown setting '$no_such_setting'" in p for p in problems)
    assert any("X-5" in p and "needs parameter(s) years" in p for p in problems)


def test_unknown_recommendation_and_bad_tier(rules_copy):
    _append(rules_copy / "rules" / "cautions.toml", '''
[[rule]]
id = "X-6"
when = "smoking"
tier = "heroic"
recommend = ["leeches"]
rationale = "t"
sources = ["seed-003"]
evidence = "Q"
''')
    with pytest.raises(RulesetError) as err:
        load_ruleset(rules_copy)
    text = str(err.value)
    assert "unknown recommendation id 'leeches'" in text
    assert "tier must be one of" in text
    assert "evidence must be one of V/P/U/S" in text


def test_invalid_toml_names_the_file(rules_copy):
    (rules_copy / "rules" / "surgical.toml").write_text("[[rule]\nid = ", encoding="utf-8")
    with pytest.raises(RulesetError, match=r"surgical\.toml: not valid TOML"):
        load_ruleset(rules_copy)


def test_missing_manifest(tmp_path):
    with pytest.raises(RulesetError, match="manifest not found"):
        load_ruleset(tmp_path)


def test_literature_source_needs_identifier(rules_copy):
    _append(rules_copy / "sources.toml", '[[source]]\nid = "anon"\ntext = "Somebody 2020"\nevidence = "V"\n')
    with pytest.raises(RulesetError, match="source 'anon': needs a PMID, DOI or URL"):
        load_ruleset(rules_copy)


def test_every_rule_is_cited_and_tagged():
    rs = load_ruleset()
    for r in rs.rules:
        assert r.sources and r.evidence in "VPUS" and r.rationale, r.id
        # a rule tagged verified must cite at least one verified non-seed source
        if r.evidence == "V":
            assert any(rs.sources[s].evidence == "V" and rs.sources[s].kind != "seed" for s in r.sources), r.id


@pytest.mark.skipif(not SEEDS_DIR.is_dir(), reason="seed statements not available")
def test_seed_quotes_are_verbatim():
    rs = load_ruleset()
    for r in rs.rules:
        for q in r.seeds:
            text = (SEEDS_DIR / q.file).read_text(encoding="utf-8")
            assert q.quote in text, f"{r.id}: quote not found in {q.file}: {q.quote!r}"


def test_settings_defaults_and_validation():
    rs = load_ruleset()
    specs = rs.settings
    assert specs["conservative_care_min_months"].default == 6
    assert specs["repair_age_max_years"].default == 25
    assert specs["conservative_care_min_months"].disagreement == "conservative-care-duration"
    with pytest.raises(SettingError, match="must be >= 0"):
        specs["conservative_care_min_months"].coerce("-1")
    with pytest.raises(SettingError, match="must be a float"):
        specs["repair_age_max_years"].coerce("old")
    with pytest.raises(SettingError, match="must be one of"):
        specs["esi_min_foraminal_stenosis"].coerce("huge")


def test_disputed_settings_list_the_seed_alternatives():
    rs = load_ruleset()
    values = {p.value for p in rs.disagreements["conservative-care-duration"].positions if p.value is not None}
    assert {3, 4, 6} <= values
    ages = {p.value for p in rs.disagreements["repair-age"].positions if p.value is not None}
    assert {25, 30} <= ages
