"""``evaluate(findings, ruleset, settings=None) -> PathwayResult``: pure, deterministic, no Qt.

Steps: facts from the findings (settings-independent) -> every rule's condition in Kleene logic
(fired / not-fired / undetermined, with each predicate's value and facts) -> tier (most pressing
tier among fired rules; a rule's ``fallback_tier`` applies only if no rule set a tier) -> plan
(recommendations merged by id, ordered by the catalogue) -> checklists -> red flags, cautions ->
missing data (facts that leave a rule undetermined, and what that rule would add) ->
disagreements (with the effect of each alternative setting value, found by re-running the
rules) -> stages and cohort union rates.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from app.findings.model import StudyFindings
from app.pathway import conditions as cond
from app.pathway.facts import FACT_QUESTIONS, Facts, assess_first, compute_facts
from app.pathway.predicates import REGISTRY
from app.pathway.result import (
    DISCLAIMER,
    INSUFFICIENT,
    TIER_HEADLINES,
    TIERS,
    Checklist,
    Citation,
    Criterion,
    Disagreement,
    DisputedNote,
    MissingItem,
    Note,
    PathwayResult,
    PredicateTrace,
    Recommendation,
    RuleTrace,
    tier_rank,
)
from app.pathway.rules import REC_GROUPS, Rule, Ruleset
from app.pathway.settings import Settings, resolve_settings
from app.pathway.staging import stage_levels

_OUTCOME = {True: "fired", False: "not-fired", None: "undetermined"}


class _SafeFormat(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fmt_value(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def format_text(text: str, settings: Mapping[str, Any]) -> str:
    if "{" not in text:
        return text
    return string.Formatter().vformat(text, (), _SafeFormat({k: _fmt_value(v) for k, v in settings.items()}))


class _Run:
    """One pass of all rules and checklists over fixed facts and settings.

    Each condition is supervaluated (``cond.supervaluate``): its Kleene value, or, when that is
    unknown, the value every completion of the unknown predicates agrees on."""

    def __init__(self, ruleset: Ruleset, facts: Facts, settings: Settings,
                 base: _Run | None = None, changed: str | None = None):
        """With ``base`` and ``changed`` (a setting name), only the checklists and rules that read
        that setting are re-evaluated; everything else is copied from ``base``."""
        self.ruleset = ruleset
        self.facts = facts
        self.settings = settings
        # keyed by (predicate, resolved params): safe to share between runs over the same facts
        self.leaves: dict[tuple, bool | None] = {} if base is None else base.leaves
        self.checklist_values: dict[str, bool | None] = {}
        self.criteria: dict[str, dict[str, bool | None]] = {}
        self.outcomes: dict[str, bool | None] = {}
        self.rule_leaves: dict[str, list[cond.Pred]] = {}
        self._keys: dict[int, tuple] = {}  # id(Pred) -> key under these settings
        self._sigs: dict[int, tuple] = {}  # id(leaf list) -> (values, pairing) under these settings
        deps = _dependencies(ruleset)
        self._node_leaves = deps.node_leaves
        for cl in ruleset.checklists.values():
            if base is not None and (changed not in deps.checklists[cl.id]
                                     or self._same_leaves(base, [deps.checklist_nodes[cl.id]]
                                                          + [deps.criterion_nodes[(cl.id, c.id)] for c in cl.criteria])):
                self.criteria[cl.id] = base.criteria[cl.id]
                self.checklist_values[cl.id] = base.checklist_values[cl.id]
                continue
            self.criteria[cl.id] = {c.id: self.value(deps.criterion_nodes[(cl.id, c.id)]) for c in cl.criteria}
            self.checklist_values[cl.id] = self.value(deps.checklist_nodes[cl.id])
        for rule in ruleset.rules:
            node = deps.rule_nodes[rule.id]
            if base is not None and (changed not in deps.rules[rule.id] or self._same_leaves(base, [node])):
                self.outcomes[rule.id] = base.outcomes[rule.id]
                self.rule_leaves[rule.id] = base.rule_leaves[rule.id]
                continue
            self.outcomes[rule.id] = self.value(node)
            self.rule_leaves[rule.id] = self._node_leaves[id(node)]

    def resolve(self, p: cond.Pred) -> dict[str, Any]:
        out = {}
        for k, v in p.params:
            out[k] = self.settings[v[1:]] if isinstance(v, str) and v.startswith("$") else v
        return out

    def key(self, p: cond.Pred) -> tuple:
        k = self._keys.get(id(p))
        if k is None:
            k = self._keys[id(p)] = (p.name, tuple(sorted(self.resolve(p).items())))
        return k

    def leaf(self, p: cond.Pred) -> bool | None:
        key = self.key(p)
        if key not in self.leaves:
            self.leaves[key] = REGISTRY[p.name].func(self.facts, **dict(key[1]))
        return self.leaves[key]

    def _same_leaves(self, base: _Run, nodes: list) -> bool:
        """Every predicate of ``nodes`` has the same value here as in ``base``, and equal predicates
        pair up the same way, so the conditions have the same (supervaluated) value."""
        for node in nodes:
            if id(node) not in self._node_leaves:
                self._node_leaves[id(node)] = cond.leaves(node)
            ls = self._node_leaves[id(node)]
            if self._signature(ls) != base._signature(ls):
                return False
        return True

    def _signature(self, ls: list) -> tuple:
        sig = self._sigs.get(id(ls))
        if sig is None:
            first: dict[tuple, int] = {}
            sig = self._sigs[id(ls)] = (tuple(self.leaf(p) for p in ls),
                                        tuple(first.setdefault(self.key(p), i) for i, p in enumerate(ls)))
        return sig

    def value(self, node: cond.Node) -> bool | None:
        if id(node) not in self._node_leaves:
            self._node_leaves[id(node)] = cond.leaves(node)
        return cond.supervaluate(node, self.leaf, self.key)

    # ---- derived views
    def fired(self) -> list[Rule]:
        return [r for r in self.ruleset.rules if self.outcomes[r.id] is True]

    def tier(self) -> tuple[str, tuple[str, ...]]:
        fired = self.fired()
        tiered = [r for r in fired if r.tier]
        if not tiered:
            tiered = [r for r in fired if r.fallback_tier]
            key = "fallback_tier"
        else:
            key = "tier"
        if not tiered:
            return INSUFFICIENT, ()
        best = max(tier_rank(getattr(r, key)) for r in tiered)
        tier = TIERS[len(TIERS) - 1 - best]
        return tier, tuple(r.id for r in tiered if getattr(r, key) == tier)

    def rec_ids(self) -> list[str]:
        seen: list[str] = []
        for r in self.fired():
            for x in r.recommend:
                if x not in seen:
                    seen.append(x)
        return _order_recs(seen, self.ruleset)


class _Deps:
    """Rules with checklist references expanded, and the settings each rule and checklist reads."""

    def __init__(self, ruleset: Ruleset):
        required = {cl.id: tuple((c.id, c.when) for c in cl.criteria if c.required)
                    for cl in ruleset.checklists.values()}
        self.checklist_nodes = {cid: cond.expand(cond.ChecklistRef(cid), required) for cid in required}
        self.criterion_nodes = {(cl.id, c.id): cond.expand(c.when, required)
                                for cl in ruleset.checklists.values() for c in cl.criteria}
        self.checklists = {cl.id: set().union(*(cond.setting_refs(self.criterion_nodes[(cl.id, c.id)])
                                                for c in cl.criteria))
                           for cl in ruleset.checklists.values()}
        self.rule_nodes = {r.id: cond.expand(r.when, required) for r in ruleset.rules}
        self.node_leaves: dict[int, list] = {}  # id(node) -> cond.leaves(node), filled on use
        self.rules = {r.id: cond.setting_refs(self.rule_nodes[r.id]) for r in ruleset.rules}


_DEPS_CACHE: dict[str, _Deps] = {}


def _dependencies(ruleset: Ruleset) -> _Deps:
    key = f"{ruleset.hash}:{id(ruleset)}"
    deps = _DEPS_CACHE.get(key)
    if deps is None:
        if len(_DEPS_CACHE) > 16:
            _DEPS_CACHE.clear()
        deps = _DEPS_CACHE[key] = _Deps(ruleset)
    return deps


def _order_recs(ids: list[str], ruleset: Ruleset) -> list[str]:
    recs = ruleset.recommendations
    return sorted(ids, key=lambda x: (REC_GROUPS.index(recs[x].group), recs[x].order))


def _facts_for(preds: list[cond.Pred], facts: Facts) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in preds:
        for name in REGISTRY[p.name].facts:
            out[name] = _jsonable(facts.get(name))
    return out


def _jsonable(v: Any) -> Any:
    if isinstance(v, tuple):
        return list(v)
    return v


def _citations(ids, ruleset: Ruleset) -> tuple[Citation, ...]:
    out, seen = [], set()
    for i in ids:
        if i not in seen:
            seen.add(i)
            out.append(ruleset.sources[i])
    return tuple(out)


def _unique_preds(preds: list[cond.Pred]) -> list[cond.Pred]:
    seen, out = set(), []
    for p in preds:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


# --------------------------------------------------------------------------- public

def evaluate(findings: StudyFindings, ruleset: Ruleset,
             settings: Settings | Mapping[str, Any] | None = None) -> PathwayResult:
    s = resolve_settings(ruleset.settings, settings)
    facts = compute_facts(findings)
    run = _Run(ruleset, facts, s)
    tier, tier_rules = run.tier()
    fired = run.fired()

    # ---- trace
    trace = []
    for rule in ruleset.rules:
        preds = _unique_preds(run.rule_leaves[rule.id])
        ptrace = []
        for p in preds:
            params = run.resolve(p)
            ptrace.append(PredicateTrace(p.name, params, run.leaves[(p.name, tuple(sorted(params.items())))],
                                         _facts_for([p], facts)))
        trace.append(RuleTrace(rule.id, rule.file, _OUTCOME[run.outcomes[rule.id]], tuple(ptrace)))

    # ---- recommendations
    rec_rules: dict[str, list[Rule]] = {}
    for r in fired:
        for x in r.recommend:
            rec_rules.setdefault(x, []).append(r)
    recs = []
    for rid in _order_recs(list(rec_rules), ruleset):
        spec = ruleset.recommendations[rid]
        rules = rec_rules[rid]
        preds = [p for r in rules for p in run.rule_leaves[r.id]]
        src_ids = [sid for r in rules for sid in r.sources]
        seeds = tuple(dict.fromkeys(q for r in rules for q in r.seeds))
        dispute_ids = list(dict.fromkeys(list(spec.disputes) + [d for r in rules for d in r.disputes]))
        disputed = tuple(DisputedNote(d, _dispute_line(ruleset, d, s)) for d in dispute_ids)
        recs.append(Recommendation(
            id=rid, text=format_text(spec.text, s), group=spec.group, rules=tuple(r.id for r in rules),
            why=tuple(dict.fromkeys(format_text(r.rationale, s) for r in rules)),
            facts=_facts_for(_unique_preds(preds), facts), citations=_citations(src_ids, ruleset),
            seeds=seeds, disputed=disputed, title=format_text(spec.title, s)))

    # ---- notes
    def notes(kind_attr: str) -> tuple[Note, ...]:
        by_id: dict[str, list[Rule]] = {}
        for r in fired:
            for x in getattr(r, kind_attr):
                by_id.setdefault(x, []).append(r)
        out = []
        for nid, rules in by_id.items():
            spec = ruleset.notes[nid]
            preds = [p for r in rules for p in run.rule_leaves[r.id]]
            out.append(Note(id=nid, text=format_text(spec.text, s), severity=spec.severity,
                            rules=tuple(r.id for r in rules), facts=_facts_for(_unique_preds(preds), facts),
                            citations=_citations([sid for r in rules for sid in r.sources], ruleset),
                            seeds=tuple(dict.fromkeys(q for r in rules for q in r.seeds))))
        sev_order = ("urgent", "review", "warning", "info")
        return tuple(sorted(out, key=lambda n: sev_order.index(n.severity)))

    red_flags = notes("red_flags")
    cautions = notes("cautions")

    # ---- checklists
    checklists = []
    for cl in ruleset.checklists.values():
        items = []
        for c in cl.criteria:
            v = run.criteria[cl.id][c.id]
            leaves = cond.leaves(_dependencies(ruleset).criterion_nodes[(cl.id, c.id)])
            items.append(Criterion(id=c.id, label=format_text(c.label, s),
                                   status={True: "met", False: "unmet", None: "unknown"}[v],
                                   required=c.required, facts=_facts_for(leaves, facts), citations=c.sources))
        overall = run.checklist_values[cl.id]
        checklists.append(Checklist(cl.id, format_text(cl.title, s),
                                    {True: "met", False: "unmet", None: "unknown"}[overall], tuple(items)))

    # ---- missing data
    missing = _missing(run, ruleset, facts, tier, set(rec_rules), {n.id for n in cautions + red_flags})

    # ---- stages
    adult = _adult(facts, s)
    levels = stage_levels(facts, ruleset, s, adult)

    # ---- disagreements (union cohorts shown -> the era/protocol and L5 disputes apply)
    extra: list[str] = []
    if any(p.union for lv in levels for p in lv.pars):
        extra.append("union-rates-by-era")
        if any(p.union for lv in levels if lv.level == "L5" for p in lv.pars):
            extra.append("union-level-l5")
    extra = [x for x in extra if x in ruleset.disagreements]
    disagreements = _disagreements(run, ruleset, facts, s, tier, fired, recs, cautions + red_flags, extra)
    summary = tuple(lv.summary for lv in levels if lv.laterality != "none" or lv.meyerding)
    if not summary:
        summary = ("No pars lesion recorded",) if facts["pars_assessed"] else ("Pars not assessed",)

    # ---- sources actually cited
    cited: list[str] = []
    for r in fired:
        cited.extend(r.sources)
    for cl in ruleset.checklists.values():
        for c in cl.criteria:
            cited.extend(c.sources)
    for lv in levels:
        for pars_stage in lv.pars:
            for u in pars_stage.union:
                cited.extend(u.citations)
    for d in disagreements:
        for pos in d.positions:
            cited.extend(pos.sources)
    sources = tuple(sorted(_citations(cited, ruleset), key=lambda c: c.id))

    assess = assess_first(facts)
    headline = TIER_HEADLINES[tier]
    if tier == INSUFFICIENT and assess:
        headline += ". Assess first: " + "; ".join(assess[:4])

    return PathwayResult(
        headline=headline, assess_first=assess,
        disclaimer=DISCLAIMER, ruleset_id=ruleset.id, ruleset_version=ruleset.version,
        ruleset_hash=ruleset.hash, settings=dict(s), levels=levels, summary=summary, tier=tier,
        tier_rules=tier_rules, recommendations=tuple(recs), checklists=tuple(checklists),
        red_flags=red_flags, cautions=cautions, missing=missing, disagreements=disagreements,
        sources=sources, trace=tuple(trace))


def _value_text(spec, value: Any, claim: str) -> str:
    """An alternative setting value in words ("3 months", or the source's claim for a choice)."""
    if spec.type == "str":
        return claim
    return f"{_fmt_value(value)} {spec.unit}".strip()


def _adult(facts: Facts, s: Settings) -> bool | None:
    v = REGISTRY["growing"].func(facts, age_max_years=s["adolescent_age_max_years"])
    return None if v is None else not v


def _dispute_line(ruleset: Ruleset, did: str, s: Settings) -> str:
    d = ruleset.disagreements[did]
    label = {"disputed": "sources disagree", "contradicted": "seed claim contradicted",
             "unconfirmed": "seed claim unconfirmed"}[d.status]
    parts = [f"{p.claim} [{p.evidence}]" for p in d.positions]
    return f"{d.topic} ({label}): " + " vs ".join(parts) + (f". Used here: {format_text(d.used, s)}" if d.used else "")


def _missing(run: _Run, ruleset: Ruleset, facts: Facts, tier: str, plan: set[str], noted: set[str]) -> tuple[MissingItem, ...]:
    by_fact: dict[str, dict[str, Any]] = {}
    for rule in ruleset.rules:
        if run.outcomes[rule.id] is not None:
            continue
        adds = [x for x in rule.recommend if x not in plan]
        raises = rule.tier if rule.tier and tier_rank(rule.tier) > tier_rank(tier) else None
        if not adds and not raises:
            continue
        unknown_facts: list[str] = []
        relevant = cond.relevant_unknowns(_dependencies(ruleset).rule_nodes[rule.id], run.leaf, run.key)
        for p in _unique_preds(run.rule_leaves[rule.id]):
            if run.leaf(p) is not None or run.key(p) not in relevant:
                continue
            for fact in REGISTRY[p.name].facts:
                not_assessed = fact in ("pars_assessed", "edema_assessed") and not facts.get(fact)
                if facts.get(fact) is not None and fact not in ("slip_pct_lesion_levels",) and not not_assessed:
                    continue
                if fact not in unknown_facts:
                    unknown_facts.append(fact)
        for fact in unknown_facts:
            entry = by_fact.setdefault(fact, {"rules": [], "adds": [], "tier": None, "with": []})
            entry["with"].extend(x for x in unknown_facts if x != fact and x not in entry["with"])
            if rule.id not in entry["rules"]:
                entry["rules"].append(rule.id)
            entry["adds"].extend(a for a in adds if a not in entry["adds"])
            if raises and (entry["tier"] is None or tier_rank(raises) > tier_rank(entry["tier"])):
                entry["tier"] = raises
    items = []
    for k, v in by_fact.items():
        ordered_adds = tuple(_order_recs(v["adds"], ruleset))
        items.append(MissingItem(fact=k, question=FACT_QUESTIONS.get(k, k), rules=tuple(v["rules"]),
                                 could_add=ordered_adds, could_change_tier_to=v["tier"], together_with=tuple(v["with"]),
                                 could_add_titles=tuple(format_text(ruleset.recommendations[a].title, run.settings)
                                                        for a in ordered_adds)))
    items.sort(key=lambda m: (-(tier_rank(m.could_change_tier_to) if m.could_change_tier_to else -1), m.fact))
    return tuple(items)


def _disagreements(run: _Run, ruleset: Ruleset, facts: Facts, s: Settings, tier: str, fired: list[Rule],
                   recs: list[Recommendation], notes, extra: list[str]) -> tuple[Disagreement, ...]:
    ids: list[str] = list(extra)
    for r in fired:
        ids.extend(r.disputes)
    for rec in recs:
        ids.extend(d.disagreement_id for d in rec.disputed)
    for n in notes:
        ids.extend(ruleset.notes[n.id].disputes)
    # settings read by any rule that fired or is undetermined (their value matters here)
    used_settings: set[str] = set()
    deps = _dependencies(ruleset)
    for rule in ruleset.rules:
        if run.outcomes[rule.id] is False:
            continue
        used_settings |= deps.rules[rule.id]
    for d in ruleset.disagreements.values():
        if d.setting in used_settings:
            ids.append(d.id)
    base_recs = run.rec_ids()
    out = []
    for did in dict.fromkeys(ids):
        d = ruleset.disagreements[did]
        effects = []
        value_used = None
        if d.setting is not None:
            value_used = s[d.setting]
            tried = set()
            for pos in d.positions:
                if pos.value is None:
                    continue
                alt = ruleset.settings[d.setting].coerce(pos.value)
                if alt == value_used or alt in tried:
                    continue
                tried.add(alt)
                other = _Run(ruleset, facts, s.replace(**{d.setting: alt}), base=run, changed=d.setting)
                alt_tier, _ = other.tier()
                alt_recs = other.rec_ids()
                added = [x for x in alt_recs if x not in base_recs]
                removed = [x for x in base_recs if x not in alt_recs]
                value_text = _value_text(ruleset.settings[d.setting], alt, pos.claim)
                if alt_tier == tier and not added and not removed:
                    effects.append(f"with {value_text}: no change for this patient")
                    continue
                bits = []
                if alt_tier != tier:
                    bits.append(f"the tier would be '{TIER_HEADLINES[alt_tier]}'")
                titles = {x: format_text(ruleset.recommendations[x].title, s) for x in added + removed}
                if added:
                    bits.append("adds " + "; ".join(titles[x] for x in added))
                if removed:
                    bits.append("drops " + "; ".join(titles[x] for x in removed))
                effects.append(f"with {value_text}: " + "; ".join(bits))
        out.append(Disagreement(id=d.id, topic=d.topic, status=d.status, positions=d.positions,
                                used=format_text(d.used, s), setting=d.setting, value_used=value_used,
                                effects=tuple(effects)))
    return tuple(out)
