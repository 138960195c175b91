"""Shared helpers for the pathway tests (imported by file name; pytest puts this folder on sys.path)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

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


CT_MR = ("CT", "MR")


def from_vignette(v: dict) -> StudyFindings:
    """Pars entries are read on CT and MRI unless the vignette gives ``read_on`` (e.g. ["radiograph"]
    or [] for not recorded); ``imaging`` and ``spinopelvic`` tables map to the model's fields."""
    p = [pars(e["level"], e["side"], e["status"], e.get("edema"), e.get("stage"), e.get("read_on", CT_MR))
         for e in v.get("pars", [])]
    lv = [level(**e) for e in v.get("levels", [])]
    return build(p, lv, imaging=v.get("imaging"), spinopelvic=v.get("spinopelvic"), **v.get("context", {}))


def chronic_l5(**ctx: Any) -> StudyFindings:
    lv = ctx.pop("levels", [dict(level="L5", slip=10, pfirrmann=2, hypoplasia=False, instability=False, stenosis="none")])
    read_on = ctx.pop("read_on", CT_MR)
    return build([("L5", "left", "chronic_nonunion", False, "terminal", read_on),
                  ("L5", "right", "chronic_nonunion", False, "terminal", read_on)], lv, **ctx)


def active_l5(**ctx: Any) -> StudyFindings:
    stage: str | None = ctx.pop("stage", "pre-lysis")
    lv = ctx.pop("levels", [dict(level="L5", pfirrmann=1)])
    return build([("L5", "left", "stress_reaction", True, stage, ("MR",)),
                  ("L5", "right", "stress_reaction", True, stage, ("MR",))], lv, **ctx)


SURGICAL_CONTEXT = dict(symptomatic=True, conservative_care_months=6, disabling_pain=True, pars_block="positive",
                        pain_concordant_with_imaging=True, radicular_symptoms=False)

# adult isthmic spondylolisthesis at the surgical threshold, no pars block done (seed 003's patient)
ADULT_LISTHESIS = dict(symptomatic=True, conservative_care_months=8, disabling_pain=True, pars_block="not_done",
                       age_years=45, skeletally_mature=True)
