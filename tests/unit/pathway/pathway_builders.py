"""Shared helpers for the pathway tests (imported by file name; pytest puts this folder on sys.path)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Optional

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover
    import tomli as tomllib  # type: ignore[no-redef]

from app.findings.model import StudyFindings
from app.pathway import load_ruleset
from app.pathway.examples import build, level, pars

HERE = Path(__file__).parent


@functools.lru_cache(maxsize=1)
def ruleset():
    return load_ruleset()


def vignettes() -> list[dict]:
    return tomllib.loads((HERE / "vignettes.toml").read_text(encoding="utf-8"))["vignette"]


def from_vignette(v: dict) -> StudyFindings:
    p = [pars(e["level"], e["side"], e["status"], e.get("edema"), e.get("stage")) for e in v.get("pars", [])]
    lv = [level(**e) for e in v.get("levels", [])]
    return build(p, lv, **v.get("context", {}))


def chronic_l5(**ctx: Any) -> StudyFindings:
    lv = ctx.pop("levels", [dict(level="L5", slip=10, pfirrmann=2, hypoplasia=False, instability=False, stenosis="none")])
    return build([("L5", "left", "chronic_nonunion", False, "terminal"),
                  ("L5", "right", "chronic_nonunion", False, "terminal")], lv, **ctx)


def active_l5(**ctx: Any) -> StudyFindings:
    stage: Optional[str] = ctx.pop("stage", "pre-lysis")
    lv = ctx.pop("levels", [dict(level="L5", pfirrmann=1)])
    return build([("L5", "left", "stress_reaction", True, stage),
                  ("L5", "right", "stress_reaction", True, stage)], lv, **ctx)


SURGICAL_CONTEXT = dict(symptomatic=True, conservative_care_months=6, disabling_pain=True, pars_block="positive",
                        pain_concordant_with_imaging=True, radicular_symptoms=False)
