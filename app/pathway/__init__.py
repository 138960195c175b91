"""Embedded, offline pathway module: staging and management suggestions from structured findings.

DECISION SUPPORT — not a diagnosis. Qt-free. Rules are versioned data in resources/pathway/.

Public API:
    load_ruleset(path=None) -> Ruleset            (raises RulesetError naming file and rule)
    evaluate(findings, ruleset, settings=None) -> PathwayResult   (pure, deterministic)
    PathwayResult.to_dict()                       (JSON shape documented in docs/pathway.md)
    render_text(result) -> str                    (the CLI's human output)
"""

from app.pathway.engine import evaluate
from app.pathway.render import render_text
from app.pathway.result import DISCLAIMER, INSUFFICIENT, TIER_HEADLINES, TIERS, PathwayResult
from app.pathway.rules import Ruleset, RulesetError, load_ruleset
from app.pathway.settings import SettingError, Settings

__all__ = [
    "DISCLAIMER",
    "INSUFFICIENT",
    "TIERS",
    "TIER_HEADLINES",
    "PathwayResult",
    "Ruleset",
    "RulesetError",
    "SettingError",
    "Settings",
    "evaluate",
    "load_ruleset",
    "render_text",
]
