"""What ``evaluate`` returns: plain frozen dataclasses, each with ``to_dict`` for JSON and UIs.

Nothing here computes anything clinical; the engine fills these in. Every suggestion carries
the rule that produced it, the facts it used and its citations, so a panel can show "why".
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any

DISCLAIMER = "DECISION SUPPORT — not a diagnosis; verify against clinical judgement"

# Management tiers, most to least pressing. "insufficient" is not a management tier: the read is
# too empty to suggest one (nothing assessed, or a lesion whose symptom status is unknown).
INSUFFICIENT = "insufficient"
TIERS = ("urgent", "surgical", "interventional", "conservative", "no-treatment", INSUFFICIENT)

# The headline a clinician reads for each tier (no ids, no variable names).
TIER_HEADLINES = {
    "urgent": "Urgent: same-day spine surgical / neurological assessment",
    "surgical": "Refer for spine surgical evaluation",
    "interventional": "Image-guided injection is an option (after conservative care)",
    "conservative": "Conservative care",
    "no-treatment": "No treatment pathway: report the finding",
    INSUFFICIENT: "Findings insufficient for a management suggestion",
}


def tier_rank(tier: str) -> int:
    """Higher is more pressing: urgent 4 ... no-treatment 0."""
    return len(TIERS) - 1 - TIERS.index(tier)


def plain(value: Any) -> Any:
    """Dataclasses, enums, tuples and dicts -> JSON-ready builtins (keeps None and empties)."""
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


class _Plain:
    def to_dict(self) -> dict:
        return plain(self)


@dataclass(frozen=True)
class Citation(_Plain):
    id: str
    text: str
    evidence: str  # V verified, P primary not read, U unsupported, S secondary
    kind: str = "literature"  # literature | guideline | seed
    pmid: str = ""
    doi: str = ""
    url: str = ""


@dataclass(frozen=True)
class SeedQuote(_Plain):
    file: str
    quote: str


@dataclass(frozen=True)
class UnionEstimate(_Plain):
    """A cohort's union rate for a lesion like this one: shown, never used as a prediction."""

    cohort_id: str
    cohort: str  # human label with population
    key: str  # which row of the cohort table, e.g. "bilateral progressive/early"
    rate_pct: float | None
    counts: str = ""  # e.g. "27/53" when the source gives counts
    primary: bool = False
    note: str = ""
    citations: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsStage(_Plain):
    level: str
    side: str
    status: str
    activity: str  # active | chronic | unknown
    mri_grade: int | None
    ang_grade: str | None
    ct_stage: str | None
    ct_stage_source: str  # reader | derived | none
    contralateral_status: str | None
    contralateral_ct_stage: str | None
    union: tuple[UnionEstimate, ...] = ()
    union_modifiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class LevelStage(_Plain):
    level: str
    laterality: str  # bilateral | left | right | none
    summary: str
    slip_pct: float | None = None
    meyerding: str | None = None
    near_meyerding_boundary: bool = False
    slip_angle_deg: float | None = None
    wiltse_type: str | None = None
    wiltse_note: str = ""
    pars: tuple[ParsStage, ...] = ()
    taillard_pct: float | None = None  # = the percent slip (clinical-reference 1.2), rounded
    marchetti_bartolozzi: str | None = None  # developmental (dysplastic) | acquired (...) | None
    marchetti_note: str = ""
    sdsg_type: str | None = None  # "1".."3" low grade; "4" / "5-6" / "4-6" high grade (L5-S1 only)
    sdsg_note: str = ""
    instability: str = ""  # measured flexion-extension motion against the thresholds, in words


@dataclass(frozen=True)
class DisputedNote(_Plain):
    disagreement_id: str
    text: str


@dataclass(frozen=True)
class Recommendation(_Plain):
    id: str
    text: str
    group: str  # urgent | referral | surgical | interventional | conservative | imaging | follow-up
    rules: tuple[str, ...]
    why: tuple[str, ...]  # the rationale of each rule that suggested it
    facts: dict = field(default_factory=dict)
    citations: tuple[Citation, ...] = ()
    seeds: tuple[SeedQuote, ...] = ()
    disputed: tuple[DisputedNote, ...] = ()
    title: str = ""  # short clinician-facing name (e.g. "Surgical evaluation")


@dataclass(frozen=True)
class Criterion(_Plain):
    id: str
    label: str
    status: str  # met | unmet | unknown
    required: bool
    facts: dict = field(default_factory=dict)
    citations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Checklist(_Plain):
    id: str
    title: str
    status: str  # met (all required met) | unmet (one required unmet) | unknown
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class Note(_Plain):
    """A red flag or a caution."""

    id: str
    text: str
    severity: str  # red-flag: urgent | review ; caution: warning | info
    rules: tuple[str, ...]
    facts: dict = field(default_factory=dict)
    citations: tuple[Citation, ...] = ()
    seeds: tuple[SeedQuote, ...] = ()


@dataclass(frozen=True)
class MissingItem(_Plain):
    fact: str
    question: str
    rules: tuple[str, ...]  # rules left undetermined by this fact
    could_add: tuple[str, ...]  # recommendation ids not yet in the plan
    could_change_tier_to: str | None
    together_with: tuple[str, ...] = ()  # other unknown facts the same rules also wait for
    could_add_titles: tuple[str, ...] = ()  # clinician-facing names of could_add, same order


@dataclass(frozen=True)
class Position(_Plain):
    claim: str
    evidence: str
    sources: tuple[str, ...] = ()
    value: Any = None


@dataclass(frozen=True)
class Disagreement(_Plain):
    id: str
    topic: str
    status: str  # disputed | contradicted | unconfirmed
    positions: tuple[Position, ...]
    used: str  # what this ruleset does about it
    setting: str | None = None
    value_used: Any = None
    effects: tuple[str, ...] = ()  # "with X = 3 the tier would be surgical (adds ...)"


@dataclass(frozen=True)
class PredicateTrace(_Plain):
    name: str
    params: dict
    value: bool | None
    facts: dict


@dataclass(frozen=True)
class RuleTrace(_Plain):
    rule_id: str
    file: str
    outcome: str  # fired | not-fired | undetermined
    predicates: tuple[PredicateTrace, ...]


@dataclass(frozen=True)
class PathwayResult(_Plain):
    disclaimer: str
    ruleset_id: str
    ruleset_version: str
    ruleset_hash: str
    settings: dict
    levels: tuple[LevelStage, ...]
    summary: tuple[str, ...]
    tier: str
    tier_rules: tuple[str, ...]
    recommendations: tuple[Recommendation, ...]
    checklists: tuple[Checklist, ...]
    red_flags: tuple[Note, ...]
    cautions: tuple[Note, ...]
    missing: tuple[MissingItem, ...]
    disagreements: tuple[Disagreement, ...]
    sources: tuple[Citation, ...]
    trace: tuple[RuleTrace, ...]
    headline: str = ""  # the tier in words; for "insufficient" it names what to assess first
    assess_first: tuple[str, ...] = ()  # key findings still unknown, most important first

    @property
    def recommendation_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.recommendations)

    def recommendation(self, rec_id: str) -> Recommendation | None:
        for r in self.recommendations:
            if r.id == rec_id:
                return r
        return None

    def checklist(self, checklist_id: str) -> Checklist | None:
        for c in self.checklists:
            if c.id == checklist_id:
                return c
        return None

    def rule_outcome(self, rule_id: str) -> str | None:
        for t in self.trace:
            if t.rule_id == rule_id:
                return t.outcome
        return None

    @property
    def fired_rules(self) -> tuple[str, ...]:
        return tuple(t.rule_id for t in self.trace if t.outcome == "fired")

    def to_dict(self) -> dict:
        return {
            "format": "isthmus-pathway-result",
            "disclaimer": self.disclaimer,
            "ruleset": {"id": self.ruleset_id, "version": self.ruleset_version, "hash": self.ruleset_hash},
            "settings": plain(self.settings),
            "stage": {"summary": list(self.summary), "levels": plain(self.levels)},
            "tier": self.tier,
            "headline": self.headline,
            "assess_first": list(self.assess_first),
            "tier_rules": list(self.tier_rules),
            "recommendations": plain(self.recommendations),
            "criteria": plain(self.checklists),
            "red_flags": plain(self.red_flags),
            "cautions": plain(self.cautions),
            "missing": plain(self.missing),
            "disagreements": plain(self.disagreements),
            "sources": plain(self.sources),
            "trace": plain(self.trace),
        }
