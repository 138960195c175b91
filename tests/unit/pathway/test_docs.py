"""docs/pathway.md documents every recommendation id, rule, predicate, setting and disagreement."""

from __future__ import annotations

from pathlib import Path

from pathway_builders import ruleset

import app
from app.pathway.predicates import REGISTRY

DOC = (Path(app.__file__).parents[1] / "docs" / "pathway.md").read_text(encoding="utf-8")

REQUIRED_IDS = ["activity-modification", "avoid-hyperextension", "flexion-core-stabilisation", "antilordotic-brace", "nsaids", "physical-therapy", "follow-up-4-6-weeks", "mri-follow-up", "ct-confirm-union", "return-to-sport-when-pain-free", "pars-injection", "epidural-steroid-injection", "gabapentinoid", "diagnostic-pars-block", "surgical-evaluation", "direct-pars-repair", "fusion", "decompression-and-fusion", "urgent-surgical-referral", "ct-staging", "mri-stir", "oblique-radiographs", "standing-lateral-radiographs"]


def test_issue_ids_exist_in_catalogue():
    assert set(REQUIRED_IDS) <= set(ruleset().recommendations)


def test_everything_is_documented():
    rs = ruleset()
    names = ([f"`{x}`" for x in rs.recommendations] + [f"`{r.id}`" for r in rs.rules]
             + [f"`{p}`" for p in REGISTRY] + [f"`{s}`" for s in rs.settings] + [f"`{d}`" for d in rs.disagreements])
    missing = [n for n in names if n not in DOC]
    assert not missing, f"not in docs/pathway.md: {missing}"


def test_doc_starts_with_the_disclaimer():
    assert "DECISION SUPPORT — not a diagnosis; verify against clinical judgement" in DOC.split("\n## ")[0]


def test_reference_tables_are_current():
    from app.pathway.doc_tables import HEADING, tables

    generated = DOC.split(HEADING, 1)[1].strip()
    assert generated == tables(ruleset()).strip(), "run: python -m app.pathway.doc_tables --write"
