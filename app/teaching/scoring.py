"""Score a trainee's read against the reference read, item by item, each explained in words.

The score starts at 100 % and every error takes off a documented number of points
(``Penalties``; docs/teaching.md has the table), never below 0. Items:

- **pars** (per level and side): exact status = correct; adjacent stage (intact < stress reaction
  < incomplete < complete < chronic non-union, both abnormal) = partial; other stage = wrong;
  a reference lesion not called = missed; a lesion called where the reference has none = false
  positive. A missed lesion with the same pattern called on the *adjacent level* (same side) is
  one **wrong level** error instead of a miss plus a false positive.
- **edema** (per matched pars site where the reference assessed it): true/false positive/negative;
  sensitivity and specificity over the case.
- **grading** (per matched pars site): Hollenberg MRI grade and CT stage agreement. A
  disagreement that follows from a status or edema error already charged is shown but not charged
  again.
- **slip** (per level): absolute error in percent within the tolerance, Meyerding grade agreement
  (not charged when within tolerance and the reference is near a grade boundary); missed slip,
  false slip, slip on the wrong level.
- **pathway**: the tier of the trainee's read (with the case's clinical context) against the tier
  of the reference read.

Unmarked sites count as "not called" (the trainee marks what is abnormal). Qt-free, pure.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from app.findings.model import Level, LevelFinding, ParsFinding, ParsStatus, Side, StudyFindings

SKILLS = ("levels", "pars", "edema", "grading", "slip", "pathway")

_STAGE_ORDER = (ParsStatus.INTACT, ParsStatus.STRESS_REACTION, ParsStatus.INCOMPLETE_FRACTURE,
                ParsStatus.COMPLETE_FRACTURE, ParsStatus.CHRONIC_NONUNION)


@dataclass(frozen=True)
class Penalties:
    """Points taken off 100 per error (configurable; defaults documented in docs/teaching.md)."""

    wrong_level: float = 15.0  # per side (or per slip) found on the adjacent level
    missed_lesion: float = 20.0  # reference pars lesion not called
    false_positive: float = 10.0  # pars lesion called where the reference has none
    adjacent_stage: float = 5.0  # status one stage off
    wrong_stage: float = 10.0  # status two or more stages off
    missed_edema: float = 10.0
    false_edema: float = 5.0
    mri_grade: float = 5.0  # Hollenberg grade disagreement not explained by a charged error
    ct_stage: float = 5.0  # CT stage disagreement not explained by a charged error
    slip_error: float = 10.0  # slip percent off by more than the tolerance
    slip_grade: float = 5.0  # Meyerding grade disagreement
    missed_slip: float = 15.0
    false_slip: float = 10.0
    tier_change: float = 15.0  # the trainee's read changes the pathway tier


@dataclass(frozen=True)
class ScoringConfig:
    penalties: Penalties = Penalties()
    slip_tolerance_pct: float = 5.0  # absolute error in percentage points counted as agreement

    def __post_init__(self) -> None:
        if not 0 <= self.slip_tolerance_pct <= 100:
            raise ValueError(f"slip_tolerance_pct must be 0-100, not {self.slip_tolerance_pct}")
        for f in dataclasses.fields(Penalties):
            if not 0 <= getattr(self.penalties, f.name) <= 100:
                raise ValueError(f"penalty {f.name} must be 0-100")

    @classmethod
    def with_overrides(cls, assignments: dict[str, float]) -> ScoringConfig:
        """``{"slip_tolerance_pct": 3, "missed_lesion": 25, ...}``; unknown names raise ValueError."""
        names = {f.name for f in dataclasses.fields(Penalties)}
        pen, tol = {}, cls.slip_tolerance_pct
        for name, value in assignments.items():
            if name == "slip_tolerance_pct":
                tol = float(value)
            elif name in names:
                pen[name] = float(value)
            else:
                raise ValueError(f"unknown scoring setting {name!r} (known: slip_tolerance_pct, {', '.join(sorted(names))})")
        return cls(Penalties(**pen), tol)


# outcome -> credit toward the per-skill accuracy (progress charts)
_CREDIT = {"correct": 1.0, "partial": 0.5}


@dataclass(frozen=True)
class ScoreItem:
    skill: str  # one of SKILLS
    key: str  # "pars L5 left", "edema L5 left", "slip L5", "pathway tier"
    outcome: str  # correct, partial, wrong_stage, wrong_level, missed, false_positive, true_negative, ...
    penalty: float  # points taken off
    explanation: str
    reference: str = ""
    trainee: str = ""

    @property
    def credit(self) -> float:
        return _CREDIT.get(self.outcome, 1.0 if self.outcome == "true_negative" else 0.0)

    def to_dict(self) -> dict:
        return {"skill": self.skill, "key": self.key, "outcome": self.outcome, "penalty": self.penalty,
                "credit": self.credit, "explanation": self.explanation, "reference": self.reference,
                "trainee": self.trainee}


@dataclass(frozen=True)
class ScoreResult:
    score_pct: float
    items: tuple[ScoreItem, ...]
    edema_sensitivity: float | None
    edema_specificity: float | None
    reference_tier: str | None = None
    trainee_tier: str | None = None
    config: ScoringConfig = field(default_factory=ScoringConfig)

    def skill_pct(self) -> dict[str, float | None]:
        """Per-skill accuracy in percent (mean credit of the skill's items); None = no item."""
        out: dict[str, float | None] = {}
        for skill in SKILLS:
            its = [i for i in self.items if i.skill == skill]
            out[skill] = round(100.0 * sum(i.credit for i in its) / len(its), 1) if its else None
        return out

    def errors(self) -> tuple[ScoreItem, ...]:
        return tuple(i for i in self.items if i.penalty > 0)

    def to_dict(self) -> dict:
        return {"score_pct": self.score_pct, "skills_pct": self.skill_pct(),
                "edema_sensitivity": self.edema_sensitivity, "edema_specificity": self.edema_specificity,
                "reference_tier": self.reference_tier, "trainee_tier": self.trainee_tier,
                "slip_tolerance_pct": self.config.slip_tolerance_pct,
                "items": [i.to_dict() for i in self.items]}


# --------------------------------------------------------------------------- descriptions


def _status_words(status: ParsStatus | None) -> str:
    return "not called (intact)" if status is None or status is ParsStatus.INTACT else status.value.replace("_", " ")


def _abnormal(p: ParsFinding | None) -> bool:
    return p is not None and p.status is not ParsStatus.INTACT


def _adjacent(level: Level) -> tuple[Level, ...]:
    order = list(Level)
    i = order.index(level)
    return tuple(order[j] for j in (i - 1, i + 1) if 0 <= j < len(order))


def _site(level: Level, side: Side) -> str:
    return f"{level.value} {side.value}"


# --------------------------------------------------------------------------- pars, edema, grading


def _match_pars(ref: dict, trn: dict) -> tuple[dict, set]:
    """ref/trn: (level, side) -> ParsFinding. Returns ref site -> trainee site (same site, or the
    adjacent-level site for a wrong level) and the set of trainee sites used."""
    matched, used = {}, set()
    for site, rp in ref.items():
        if _abnormal(rp) and _abnormal(trn.get(site)):
            matched[site] = site
            used.add(site)
    for site, rp in ref.items():
        if not _abnormal(rp) or site in matched:
            continue
        level, side = site
        for adj in _adjacent(level):
            cand = (adj, side)
            if cand in used or not _abnormal(trn.get(cand)) or _abnormal(ref.get(cand)):
                continue
            matched[site] = cand
            used.add(cand)
            break
    return matched, used


def _pars_items(ref: dict, trn: dict, pen: Penalties) -> tuple[list[ScoreItem], dict]:
    items: list[ScoreItem] = []
    matched, used = _match_pars(ref, trn)
    for site in sorted(ref, key=lambda s: (list(Level).index(s[0]), s[1].value)):
        rp = ref[site]
        key = f"pars {_site(*site)}"
        if not _abnormal(rp):
            continue
        tsite = matched.get(site)
        if tsite is None:
            what = "defect" if rp.status.is_defect else "stress reaction"
            items.append(ScoreItem("pars", key, "missed", pen.missed_lesion,
                                   f"Missed {what} at {_site(*site)}: the reference has a {_status_words(rp.status)}; "
                                   "you did not call one there.", _status_words(rp.status), "not called"))
            continue
        tp = trn[tsite]
        if tsite != site:
            items.append(ScoreItem("levels", key, "wrong_level", pen.wrong_level,
                                   f"Wrong level: you called {_status_words(tp.status)} at {_site(*tsite)}; the reference "
                                   f"has {_status_words(rp.status)} at {_site(*site)}. Count the levels from the sacrum.",
                                   f"{_site(*site)} {_status_words(rp.status)}", f"{_site(*tsite)} {_status_words(tp.status)}"))
            continue
        items.append(ScoreItem("levels", f"level {_site(*site)}", "correct", 0.0,
                               f"Level identified: {_site(*site)}.", _site(*site), _site(*site)))
        d = abs(_STAGE_ORDER.index(rp.status) - _STAGE_ORDER.index(tp.status))
        if d == 0:
            items.append(
                ScoreItem(
                    "pars",
                    key,
                    "correct",
                    0.0,
                    f"{_site(*site)} pars: {_status_words(rp.status)}, as the reference.",
                    _status_words(rp.status),
                    _status_words(tp.status),
                )
            )
        elif d == 1:
            items.append(ScoreItem("pars", key, "partial", pen.adjacent_stage,
                                   f"Adjacent stage at {_site(*site)}: you called {_status_words(tp.status)}, the reference "
                                   f"has {_status_words(rp.status)} (partial credit).",
                                   _status_words(rp.status), _status_words(tp.status)))
        else:
            items.append(ScoreItem("pars", key, "wrong_stage", pen.wrong_stage,
                                   f"Wrong stage at {_site(*site)}: you called {_status_words(tp.status)}, the reference "
                                   f"has {_status_words(rp.status)}.", _status_words(rp.status), _status_words(tp.status)))
    for tsite in sorted(trn, key=lambda s: (list(Level).index(s[0]), s[1].value)):
        tp = trn[tsite]
        if _abnormal(tp) and tsite not in used:
            items.append(ScoreItem("pars", f"pars {_site(*tsite)}", "false_positive", pen.false_positive,
                                   f"False positive at {_site(*tsite)}: you called {_status_words(tp.status)}; the "
                                   "reference pars is intact there.", "intact", _status_words(tp.status)))
    return items, matched


def _edema_items(ref: dict, trn: dict, matched: dict, pen: Penalties) -> tuple[list[ScoreItem], dict]:
    """Compares edema at each reference site where it was assessed, against the trainee entry
    matched to it (same site, or the wrong-level site), and counts edema the trainee called at
    sites the reference did not assess as abnormal."""
    items: list[ScoreItem] = []
    counts = {"tp": 0, "fn": 0, "fp": 0, "tn": 0}
    used_trainee = set()
    pairs = {}
    for site in ref:
        tsite = matched.get(site, site)
        pairs[site] = tsite
        used_trainee.add(tsite)
    claimed = {t for s, t in matched.items() if t != s}  # trainee sites moved to another level
    for site in sorted(pairs, key=lambda s: (list(Level).index(s[0]), s[1].value)):
        rp, tsite = ref[site], pairs[site]
        if rp.edema_present is None:
            continue
        tp = None if (site not in matched and tsite in claimed) else trn.get(tsite)
        called = bool(tp is not None and tp.edema_present)
        key = f"edema {_site(*site)}"
        if rp.edema_present and called:
            counts["tp"] += 1
            items.append(
                ScoreItem("edema", key, "correct", 0.0, f"Marrow oedema at {_site(*site)} detected.", "oedema", "oedema")
            )
        elif rp.edema_present:
            counts["fn"] += 1
            items.append(ScoreItem("edema", key, "missed", pen.missed_edema,
                                   f"Missed marrow oedema at {_site(*site)}: look at STIR; oedema means the lesion is active.",
                                   "oedema", "none called"))
        elif called:
            counts["fp"] += 1
            items.append(ScoreItem("edema", key, "false_positive", pen.false_edema,
                                   f"Oedema called at {_site(*tsite)} where the reference has none.", "no oedema", "oedema"))
        else:
            counts["tn"] += 1
            items.append(ScoreItem("edema", key, "true_negative", 0.0, f"No oedema at {_site(*site)}, as the reference.",
                                   "no oedema", "none called"))
    for tsite, tp in trn.items():
        if tsite in used_trainee or not tp.edema_present:
            continue
        counts["fp"] += 1
        items.append(ScoreItem("edema", f"edema {_site(*tsite)}", "false_positive", pen.false_edema,
                               f"Oedema called at {_site(*tsite)} where the reference has none.", "no oedema", "oedema"))
    return items, counts


def _grading_items(ref: dict, trn: dict, matched: dict, pen: Penalties) -> list[ScoreItem]:
    items: list[ScoreItem] = []
    for site, tsite in sorted(matched.items(), key=lambda kv: (list(Level).index(kv[0][0]), kv[0][1].value)):
        rp, tp = ref[site], trn[tsite]
        explained = tsite != site or rp.status is not tp.status or bool(rp.edema_present) != bool(tp.edema_present)
        for what, ref_v, trn_v, cost in (
                ("Hollenberg MRI grade", rp.mri_grade, tp.mri_grade, pen.mri_grade),
                ("CT stage", rp.ct_stage.value if rp.ct_stage else None, tp.ct_stage.value if tp.ct_stage else None,
                 pen.ct_stage)):
            if ref_v is None:
                continue
            key = f"{'MRI grade' if what.startswith('Hollenberg') else 'CT stage'} {_site(*site)}"
            ref_s, trn_s = str(ref_v), "none" if trn_v is None else str(trn_v)
            if what == "CT stage" and trn_v is None and tp.cross_sectional_confirmation is False:
                items.append(ScoreItem("grading", key, "not_staged", 0.0,
                                       f"CT stage at {_site(*site)}: the reference is {ref_v}; your read was on "
                                       f"radiographs only, which cannot stage a defect (a CT stage needs CT, or MRI "
                                       f"through the documented crosswalk). Not charged; confirm on CT or MRI.",
                                       ref_s, trn_s))
                continue
            if ref_v == trn_v:
                items.append(ScoreItem("grading", key, "correct", 0.0, f"{what} at {_site(*site)}: {ref_v}, as the reference.",
                                       ref_s, trn_s))
            elif explained:
                items.append(ScoreItem("grading", key, "follows", 0.0,
                                       f"{what} at {_site(*site)}: yours {trn_v if trn_v is not None else 'none'}, reference "
                                       f"{ref_v}; this follows from the error above and is not charged again.",
                                       ref_s, trn_s))
            else:
                items.append(ScoreItem("grading", key, "disagree", cost,
                                       f"{what} disagreement at {_site(*site)}: yours {trn_v if trn_v is not None else 'none'}, "
                                       f"the reference {ref_v}.", ref_s, trn_s))
    return items


# --------------------------------------------------------------------------- slips


def _slip_items(ref: dict, trn: dict, cfg: ScoringConfig) -> list[ScoreItem]:
    pen, tol = cfg.penalties, cfg.slip_tolerance_pct
    items: list[ScoreItem] = []
    used = set()
    for level in sorted(ref, key=lambda lv: list(Level).index(lv)):
        rs = ref[level].slip
        key = f"slip {level.value}"
        ts_level = level if trn.get(level) is not None and trn[level].slip is not None else None
        if ts_level is None:
            for adj in _adjacent(level):
                if adj not in used and trn.get(adj) is not None and trn[adj].slip is not None and (
                        ref.get(adj) is None or ref[adj].slip is None):
                    ts_level = adj
                    break
        if ts_level is None:
            items.append(ScoreItem("slip", key, "missed", pen.missed_slip,
                                   f"Missed slip of {level.value}: the reference measures {rs.percent:g} % "
                                   f"(Meyerding {rs.grade.value if rs.grade else 'none'}).", f"{rs.percent:g} %", "not measured"))
            continue
        used.add(ts_level)
        ts = trn[ts_level].slip
        if ts_level is not level:
            items.append(ScoreItem("levels", key, "wrong_level", pen.wrong_level,
                                   f"Wrong level: you measured a slip of {ts_level.value}; the reference slip is "
                                   f"{level.value} ({rs.percent:g} %).", f"{level.value} {rs.percent:g} %",
                                   f"{ts_level.value} {ts.percent:g} %"))
            continue
        err = abs(ts.percent - rs.percent)
        if err <= tol:
            items.append(ScoreItem("slip", key, "correct", 0.0,
                                   f"Slip of {level.value}: {ts.percent:g} % against {rs.percent:g} % (error {err:.1f} points, "
                                   f"within {tol:g}).", f"{rs.percent:g} %", f"{ts.percent:g} %"))
        else:
            items.append(ScoreItem("slip", key, "out_of_tolerance", pen.slip_error,
                                   f"Slip of {level.value} off by {err:.1f} percentage points (tolerance {tol:g}): you "
                                   f"measured {ts.percent:g} %, the reference {rs.percent:g} %.", f"{rs.percent:g} %",
                                   f"{ts.percent:g} %"))
        rg, tg = rs.grade, ts.grade
        gkey = f"Meyerding {level.value}"
        if rg == tg:
            items.append(
                ScoreItem(
                    "slip",
                    gkey,
                    "correct",
                    0.0,
                    f"Meyerding grade {rg.value if rg else 'none'}, as the reference.",
                    rg.value if rg else "none",
                    tg.value if tg else "none",
                )
            )
        elif err <= tol and rs.near_boundary:
            items.append(ScoreItem("slip", gkey, "follows", 0.0,
                                   f"Meyerding {tg.value if tg else 'none'} against {rg.value if rg else 'none'}: the reference "
                                   "is near a grade boundary and your percent is within tolerance (not charged).",
                                   rg.value if rg else "none", tg.value if tg else "none"))
        else:
            items.append(
                ScoreItem(
                    "slip",
                    gkey,
                    "disagree",
                    pen.slip_grade,
                    f"Meyerding grade disagreement at {level.value}: yours {tg.value if tg else 'none'}, the "
                    f"reference {rg.value if rg else 'none'}.",
                    rg.value if rg else "none",
                    tg.value if tg else "none",
                )
            )
    for level in sorted(trn, key=lambda lv: list(Level).index(lv)):
        if level in used or trn[level].slip is None or (ref.get(level) is not None):
            continue
        ts = trn[level].slip
        items.append(ScoreItem("slip", f"slip {level.value}", "false_positive", pen.false_slip,
                               f"False slip: you measured {ts.percent:g} % at {level.value}; the reference has no slip there.",
                               "no slip", f"{ts.percent:g} %"))
    return items


# --------------------------------------------------------------------------- pathway


_TIER_WORDS = {"urgent": "urgent referral", "surgical": "surgical evaluation", "interventional": "an intervention",
               "conservative": "conservative care", "no-treatment": "no treatment"}


def _pathway_item(
    reference: StudyFindings, trainee: StudyFindings, pen: Penalties
) -> tuple[ScoreItem | None, str | None, str | None]:
    """The trainee's read is evaluated with the reference's clinical context and imaging (the
    trainee reads images, the history is given), so only the imaging findings differ."""
    from app.pathway import evaluate, load_ruleset

    ruleset = load_ruleset()
    as_trainee = dataclasses.replace(trainee, context=reference.context, imaging=reference.imaging)
    ref_tier = evaluate(reference, ruleset).tier
    trn_tier = evaluate(as_trainee, ruleset).tier
    if ref_tier == trn_tier:
        return (ScoreItem("pathway", "pathway tier", "correct", 0.0,
                          f"Your read leads to the same pathway tier as the reference: {_TIER_WORDS.get(ref_tier, ref_tier)}.",
                          ref_tier, trn_tier), ref_tier, trn_tier)
    return (ScoreItem("pathway", "pathway tier", "tier_change", pen.tier_change,
                      f"Your read would have led to {_TIER_WORDS.get(trn_tier, trn_tier)}; the reference read leads to "
                      f"{_TIER_WORDS.get(ref_tier, ref_tier)}.", ref_tier, trn_tier), ref_tier, trn_tier)


# --------------------------------------------------------------------------- entry point


def score_read(trainee: StudyFindings, reference: StudyFindings, config: ScoringConfig | None = None,
               with_pathway: bool = True) -> ScoreResult:
    """Score ``trainee`` against ``reference``; pure and deterministic."""
    cfg = config or ScoringConfig()
    pen = cfg.penalties
    ref_p = {(p.level, p.side): p for p in reference.pars}
    trn_p = {(p.level, p.side): p for p in trainee.pars}
    items, matched = _pars_items(ref_p, trn_p, pen)
    edema_items, counts = _edema_items(ref_p, trn_p, matched, pen)
    items += edema_items
    items += _grading_items(ref_p, trn_p, matched, pen)
    ref_l: dict[Level, LevelFinding] = {lv.level: lv for lv in reference.levels if lv.slip is not None}
    trn_l: dict[Level, LevelFinding] = {lv.level: lv for lv in trainee.levels if lv.slip is not None}
    items += _slip_items(ref_l, trn_l, cfg)
    ref_tier = trn_tier = None
    if with_pathway:
        item, ref_tier, trn_tier = _pathway_item(reference, trainee, pen)
        items.append(item)
    score = max(0.0, 100.0 - sum(i.penalty for i in items))
    sens = counts["tp"] / (counts["tp"] + counts["fn"]) if counts["tp"] + counts["fn"] else None
    spec = counts["tn"] / (counts["tn"] + counts["fp"]) if counts["tn"] + counts["fp"] else None
    return ScoreResult(round(score, 1), tuple(items), sens, spec, ref_tier, trn_tier, cfg)


def render_score_text(result: ScoreResult) -> str:
    lines = [f"Score: {result.score_pct:g} %"]
    skills = result.skill_pct()
    lines.append("Skills: " + ", ".join(f"{k} {'-' if v is None else f'{v:g} %'}" for k, v in skills.items()))
    sens = "n/a" if result.edema_sensitivity is None else f"{100 * result.edema_sensitivity:.0f} %"
    spec = "n/a" if result.edema_specificity is None else f"{100 * result.edema_specificity:.0f} %"
    lines.append(f"Oedema detection: sensitivity {sens}, specificity {spec}")
    if result.reference_tier is not None:
        lines.append(f"Pathway tier: reference {result.reference_tier}, your read {result.trainee_tier}")
    lines.append("")
    for i in result.items:
        mark = "  " if i.penalty == 0 else f"-{i.penalty:g}"
        lines.append(f"{mark:>4} [{i.skill}] {i.explanation}")
    return "\n".join(lines) + "\n"
