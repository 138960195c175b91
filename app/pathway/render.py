"""Human-readable text of a PathwayResult (used by `isthmus pathway`)."""

from __future__ import annotations

from app.pathway.facts import FACT_QUESTIONS
from app.pathway.result import PathwayResult

_ICON = {"met": "[x]", "unmet": "[ ]", "unknown": "[?]"}


def _pct(v) -> str:
    return "n/a" if v is None else f"{v:g} %"


def _together(facts: tuple[str, ...], most: int = 3) -> str:
    if not facts:
        return ""
    shown = "; ".join(FACT_QUESTIONS.get(x, x) for x in facts[:most])
    more = f"; and {len(facts) - most} more" if len(facts) > most else ""
    return f" (together with: {shown}{more})"


def render_text(result: PathwayResult, show_trace: bool = False) -> str:
    out: list[str] = []
    add = out.append
    add(result.disclaimer)
    add("=" * len(result.disclaimer))
    add(f"Ruleset {result.ruleset_id} {result.ruleset_version} ({result.ruleset_hash[:19]}…)")
    add("")
    add("STAGE")
    for line in result.summary:
        add(f"  {line}")
    for lv in result.levels:
        for p in lv.pars:
            if p.status == "intact" and p.activity != "active":
                continue
            grade = "n/a" if p.mri_grade is None else str(p.mri_grade)
            add(f"  {p.level} {p.side}: {p.status}, {p.activity}, MRI grade {grade}"
                f" (Ang {p.ang_grade or 'n/a'}), CT stage {p.ct_stage or 'n/a'} [{p.ct_stage_source}]")
            for u in p.union:
                mark = "*" if u.primary else "-"
                counts = f" ({u.counts})" if u.counts else ""
                note = f"; {u.note}" if u.note else ""
                add(f"      {mark} expected union with conservative care in {u.cohort}: {_pct(u.rate_pct)}{counts}"
                    f" [{u.key}{note}] — a cohort rate, not a certainty")
            for m in p.union_modifiers:
                add(f"      ! {m}")
        if lv.wiltse_note:
            add(f"  {lv.level} Wiltse: {lv.wiltse_note}")
        if lv.marchetti_bartolozzi:
            note = f" — {lv.marchetti_note}" if lv.marchetti_note else ""
            add(f"  {lv.level} Marchetti-Bartolozzi: {lv.marchetti_bartolozzi}{note}")
        if lv.sdsg_note:
            add(f"  {lv.level} SDSG: {lv.sdsg_note}")
        if lv.instability:
            add(f"  {lv.level} {lv.instability}")
    add("")
    rules = f"  (rules: {', '.join(result.tier_rules)})" if result.tier_rules else ""
    add(f"TIER: {result.tier.upper()} — {result.headline}{rules}")
    for item in result.assess_first if result.tier == "insufficient" else ():
        add(f"  assess: {item}")
    add("")
    if result.red_flags:
        add("RED FLAGS")
        for n in result.red_flags:
            add(f"  !! [{n.severity}] {n.text}  (rule {', '.join(n.rules)})")
        add("")
    add("PLAN")
    if not result.recommendations:
        add("  (no recommendation)")
    for i, r in enumerate(result.recommendations, 1):
        add(f"  {i:2d}. {r.title} [{r.group}]")
        add(f"      {r.text}")
        for w in r.why:
            add(f"      why: {w}")
        sources = ", ".join(f"{c.id} [{c.evidence}]" for c in r.citations)
        add(f"      why (ids): {r.id}; rules: {', '.join(r.rules)}; sources: {sources}")
        for d in r.disputed:
            add(f"      disputed: {d.text}")
    add("")
    add("CRITERIA")
    for cl in result.checklists:
        add(f"  {cl.title}: {cl.status.upper()}")
        for c in cl.criteria:
            opt = "" if c.required else " (optional)"
            add(f"    {_ICON[c.status]} {c.label}{opt}")
    add("")
    if result.cautions:
        add("CAUTIONS")
        for n in result.cautions:
            add(f"  - [{n.severity}] {n.text}")
        add("")
    if result.missing:
        add("MISSING DATA THAT COULD CHANGE THE SUGGESTION")
        for miss in result.missing:
            eff = []
            if miss.could_change_tier_to:
                eff.append(f"tier could become {miss.could_change_tier_to}")
            if miss.could_add:
                eff.append("could add " + ", ".join(miss.could_add_titles or miss.could_add))
            add(f"  ? {miss.question}" + (f" — {'; '.join(eff)}" if eff else "")
                + _together(miss.together_with))
        add("")
    if result.disagreements:
        add("WHERE SOURCES DISAGREE")
        for dis in result.disagreements:
            add(f"  * {dis.topic} [{dis.status}] — used: {dis.used}")
            for pos in dis.positions:
                add(f"      - {pos.claim} [{pos.evidence}: {', '.join(pos.sources)}]")
            for e in dis.effects:
                add(f"      > {e}")
        add("")
    add("SOURCES")
    for src in result.sources:
        ident = (src.pmid and f"PMID {src.pmid}") or (src.doi and f"doi:{src.doi}") or src.url
        add(f"  [{src.evidence}] {src.id}: {src.text}" + (f" — {ident}" if ident else ""))
    if show_trace:
        add("")
        add("TRACE")
        for t in result.trace:
            add(f"  {t.rule_id}: {t.outcome}")
            for pred in t.predicates:
                v = {True: "true", False: "false", None: "unknown"}[pred.value]
                params = ", ".join(f"{k}={v2}" for k, v2 in pred.params.items())
                add(f"      {pred.name}({params}) = {v}")
    add("")
    add(result.disclaimer)
    return "\n".join(out) + "\n"
