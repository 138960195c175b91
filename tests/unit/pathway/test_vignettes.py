"""The vignette table (vignettes.toml): expected tier and recommendation ids for each case."""

from __future__ import annotations

import pytest
from pathway_builders import from_vignette, ruleset, vignettes

from app.pathway import evaluate

VIGNETTES = vignettes()


def test_there_are_enough_vignettes_with_unique_ids():
    ids = [v["id"] for v in VIGNETTES]
    assert len(ids) >= 30
    assert len(set(ids)) == len(ids)
    # issue 10 / issue 9 vignettes (V101 ...): at least 40
    assert sum(1 for i in ids if i[1:4].isdigit()) >= 40


@pytest.mark.parametrize("v", VIGNETTES, ids=[v["id"] for v in VIGNETTES])
def test_vignette(v):
    result = evaluate(from_vignette(v), ruleset(), v.get("settings"))
    ids = set(result.recommendation_ids)
    problems = []
    if result.tier != v["tier"]:
        problems.append(f"tier {result.tier!r}, expected {v['tier']!r} (rules {result.tier_rules})")
    missing = [x for x in v.get("include", []) if x not in ids]
    if missing:
        problems.append(f"missing recommendations {missing}")
    unwanted = [x for x in v.get("exclude", []) if x in ids]
    if unwanted:
        problems.append(f"unexpected recommendations {unwanted}")
    cautions = {c.id for c in result.cautions}
    flags = {c.id for c in result.red_flags}
    for x in v.get("cautions", []):
        if x not in cautions:
            problems.append(f"missing caution {x}")
    for x in v.get("no_cautions", []):
        if x in cautions:
            problems.append(f"unexpected caution {x}")
    for x in v.get("red_flags", []):
        if x not in flags:
            problems.append(f"missing red flag {x}")
    statuses = {f"{cl.id}.{c.id}": c.status for cl in result.checklists for c in cl.criteria}
    for key, want in v.get("criteria", {}).items():
        if statuses.get(key) != want:
            problems.append(f"criterion {key} is {statuses.get(key)!r}, expected {want!r}")
    assert not problems, f"{v['id']}: " + "; ".join(problems) + f"\nplan: {sorted(ids)}"
