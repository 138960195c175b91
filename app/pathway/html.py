"""Rich-text (Qt HTML subset) view of a PathwayResult, for the pathway panel. Qt-free.

``render_view(result, error, evaluate_ms)`` returns a ``PathwayView``: the disclaimer, the tier
badge, the footer and an ordered tuple of ``Block`` (headings, labels, plan steps). The panel
keeps one widget per block and updates only the blocks whose content changed, so a finding
edit that changes one line of the pathway changes one label (render.py is the text renderer
of the CLI; this module is its rich-text sibling).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

DEFAULT_DISCLAIMER = ("Decision support — not a diagnosis. Suggestions follow the rules and sources shown; "
                      "verify against clinical judgement.")

TIER_COLOURS = {  # background, text
    "urgent": ("#c62828", "#ffffff"),
    "surgical": ("#ef6c00", "#ffffff"),
    "interventional": ("#6a1b9a", "#ffffff"),
    "conservative": ("#2e7d32", "#ffffff"),
    "no-treatment": ("#546e7a", "#ffffff"),
    "insufficient": ("#616161", "#ffffff"),
}
TIER_LABELS = {
    "urgent": "URGENT — same-day specialist assessment",
    "surgical": "SURGICAL — referral / discussion",
    "interventional": "INTERVENTIONAL — image-guided injection",
    "conservative": "CONSERVATIVE care",
    "no-treatment": "NO TREATMENT pathway",
    "insufficient": "Findings insufficient for a management suggestion",
}
RED = "#ff5252"
AMBER = "#ffb74d"
GREEN = "#81c784"
MUTED = "#9e9e9e"
LINK = "#82b1ff"
GREY = "#9e9e9e"
# a criterion not assessed is unknown: a grey "?", never a tick
STATUS_MARK = {"met": ("✓", GREEN), "unmet": ("✗", RED), "unknown": ("?", GREY)}
STATUS_WORDS = {"met": "met", "unmet": "not met", "unknown": "not assessed"}
GROUP_COLOURS = {
    "urgent": RED, "surgical": "#ff9800", "interventional": "#ce93d8",
    "conservative": GREEN, "imaging": "#4fc3f7", "follow-up": "#b0bec5",
}
RED_FLAG_STYLE = f"color:{RED}; border:1px solid {RED}; background:#3b1111; padding:4px;"


@dataclass(frozen=True)
class Block:
    """One widget's worth of the panel. ``kind``: "heading", "label" or "recommendation";
    ``name``: the widget's object name; ``key``: section key of a heading, severity of a red
    flag; ``rec``/``details``/``number``: a plan step, its "why?" text and its position."""

    kind: str
    html: str
    name: str = ""
    style: str = ""
    tooltip: str = ""
    key: str = ""
    rec: Any = None
    details: str = ""


@dataclass(frozen=True)
class PathwayView:
    disclaimer: str
    tier: str  # "" when no result is shown (the badge is hidden)
    tier_html: str
    tier_style: str
    tier_tooltip: str
    tier_rules_text: str
    footer: str
    blocks: tuple[Block, ...]


def esc(value: Any) -> str:
    return html.escape(str(value), quote=False)


def fmt_value(v: Any) -> str:
    if v is None:
        return "unknown"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return round_clinical(v)
    if isinstance(v, (list, tuple)):
        return ", ".join(fmt_value(x) for x in v) or "—"
    if isinstance(v, dict):
        return "; ".join(f"{k}: {fmt_value(x)}" for k, x in v.items()) or "—"
    if hasattr(v, "value"):
        return str(v.value)
    return str(v)


def round_clinical(v: float) -> str:
    """Clinically sensible precision: 18 (not 18.2609) from 10 up, one decimal below."""
    if abs(v) >= 10:
        return f"{v:.0f}"
    return f"{v:.1f}".rstrip("0").rstrip(".")


def citation_html(c: Any) -> str:
    """One citation as rich text: text, evidence grade, PMID/DOI/URL links."""
    parts = [esc(getattr(c, "text", c))]
    ev = getattr(c, "evidence", "")
    if ev:
        parts.append(f"<span style='color:{MUTED}'>[{esc(ev)}]</span>")
    pmid = getattr(c, "pmid", "")
    doi = getattr(c, "doi", "")
    url = getattr(c, "url", "")
    if pmid:
        parts.append(f"<a style='color:{LINK}' href='https://pubmed.ncbi.nlm.nih.gov/{esc(pmid)}/'>PMID {esc(pmid)}</a>")
    if doi:
        parts.append(f"<a style='color:{LINK}' href='https://doi.org/{esc(doi)}'>doi:{esc(doi)}</a>")
    if url and not (pmid or doi):
        parts.append(f"<a style='color:{LINK}' href='{esc(url)}'>link</a>")
    return " ".join(parts)


def disputed_html(note: Any, result: Any) -> str:
    """A disputed threshold: the note, what this ruleset uses, and every position with sources."""
    dis = next((d for d in getattr(result, "disagreements", ()) or () if d.id == getattr(note, "disagreement_id", None)),
               None)
    head = f"<span style='color:{AMBER}'><b>⚠ Disputed:</b> {esc(note.text)}</span>"
    if dis is None:
        return head
    lines = [head, f"<i>{esc(dis.topic)}</i> — {esc(dis.status)}; this ruleset: {esc(dis.used)}"]
    if dis.setting:
        lines[-1] += f" (setting <code>{esc(dis.setting)}</code> = {esc(fmt_value(dis.value_used))})"
    items = []
    for p in dis.positions:
        src = ", ".join(_source_text(result, s) for s in p.sources)
        items.append(f"<li>{esc(p.claim)} <span style='color:{MUTED}'>[{esc(p.evidence)}]</span>"
                     + (f" — {src}" if src else "") + "</li>")
    if items:
        lines.append("Alternatives:<ul style='margin:0'>" + "".join(items) + "</ul>")
    for e in dis.effects:
        lines.append(f"<span style='color:{MUTED}'>{esc(e)}</span>")
    return "<br>".join(lines)


def recommendation_html(number: int, rec: Any) -> str:
    group = getattr(rec, "group", "")
    colour = GROUP_COLOURS.get(group, "#e0e0e0")
    tag = f"<span style='color:{colour}; font-weight:bold'>{esc(group)}</span> " if group else ""
    return f"<b>{number}.</b> {tag}{esc(rec.text)}"


def recommendation_details_html(rec: Any, result: Any) -> str:
    """The "why?" of one plan step: rules, rationale, facts used, sources, seeds, disputes."""
    out = []
    rules = getattr(rec, "rules", ()) or ()
    out.append(f"<b>Rule{'s' if len(rules) != 1 else ''}:</b> {esc(', '.join(rules)) or '—'}"
               f" <span style='color:{MUTED}'>(suggestion id {esc(rec.id)})</span>")
    why = getattr(rec, "why", ()) or ()
    if why:
        out.append("<b>Rationale:</b><ul style='margin:0'>" + "".join(f"<li>{esc(w)}</li>" for w in why) + "</ul>")
    facts = getattr(rec, "facts", {}) or {}
    if facts:
        out.append("<b>Facts used:</b> " + "; ".join(f"{esc(k)} = <i>{esc(fmt_value(v))}</i>" for k, v in facts.items()))
    cits = getattr(rec, "citations", ()) or ()
    if cits:
        out.append("<b>Sources:</b><ul style='margin:0'>" + "".join(f"<li>{citation_html(c)}</li>" for c in cits) + "</ul>")
    seeds = getattr(rec, "seeds", ()) or ()
    if seeds:
        out.append("<b>Seed documents (unverified):</b><ul style='margin:0'>" + "".join(
            f"<li>“{esc(s.quote)}” <span style='color:{MUTED}'>({esc(s.file)})</span></li>" for s in seeds) + "</ul>")
    for note in getattr(rec, "disputed", ()) or ():
        out.append(disputed_html(note, result))
    return "<br>".join(out)


def disclaimer_text(r: Any) -> str:
    d = (getattr(r, "disclaimer", "") or "").strip()
    if not d:
        return DEFAULT_DISCLAIMER
    if "source" not in d.lower():
        d = d.rstrip(".") + ". Suggestions follow the rules and sources shown."
    return d


def heading_style(colour: str) -> str:
    return f"font-weight: bold; color: {colour}; margin-top: 8px; border-bottom: 1px solid #555; padding-bottom: 2px;"


def render_view(result: Any, error: str = "", evaluate_ms: float | None = None) -> PathwayView:
    """Everything the pathway panel shows for ``result`` (None: ``error`` or "no ruleset")."""
    if result is None:
        reason = error or "No pathway ruleset loaded."
        return PathwayView(esc(DEFAULT_DISCLAIMER), "", "", "", "", "", "",
                           (Block("label", esc(reason), style=f"color:{AMBER}"),))
    r = result
    bg, fg = TIER_COLOURS.get(r.tier, ("#455a64", "#ffffff"))
    rules = ", ".join(r.tier_rules)
    timing = f" · evaluated in {evaluate_ms:.1f} ms" if isinstance(evaluate_ms, (int, float)) and evaluate_ms else ""
    digest = r.ruleset_hash.split(":", 1)[-1][:12]
    return PathwayView(
        disclaimer=esc(disclaimer_text(r)),
        tier=r.tier,
        tier_html=esc(TIER_LABELS.get(r.tier) or getattr(r, "headline", "") or r.tier.replace("-", " ")),
        tier_style=f"background:{bg}; color:{fg}; font-weight:bold; padding:4px 10px; border-radius:4px; font-size: 11pt;",
        tier_tooltip=f"why? rules: {rules}" if rules else "",
        tier_rules_text="Management suggestion",
        footer=f"Ruleset {esc(r.ruleset_id)} v{esc(r.ruleset_version)} (sha256 {esc(digest)}){timing}",
        blocks=tuple(_blocks(r)),
    )


def _heading(key: str, title: str, colour: str = "#e0e0e0") -> Block:
    return Block("heading", esc(title), name="sectionHeading", style=heading_style(colour), key=key)


def _blocks(r: Any) -> Iterable[Block]:
    assess = tuple(getattr(r, "assess_first", ()) or ())
    if r.tier == "insufficient" or assess:
        yield Block("label", "<b>Assess first:</b><br>" + "<br>".join(f"? {esc(a)}" for a in assess)
                    if assess else "Assess the pars, the slip and the clinical context first.",
                    name="assessFirst", style=f"color:{GREY}; font-size: 10pt;")
    if r.red_flags:
        yield _heading("red_flags", "⚠ RED FLAGS", RED)
        for note in r.red_flags:
            yield Block("label", f"<b>{esc(note.text)}</b>" + _note_sources(note), name="redFlag",
                        style=RED_FLAG_STYLE, key=note.severity)
    if r.summary:
        yield _heading("stage", "Stage")
        yield Block("label", "<br>".join(f"• {esc(s)}" for s in r.summary), name="summary", style="font-size: 10pt;")
        for lv in (lv for lv in r.levels if lv.near_meyerding_boundary):
            yield Block("label", f"⚠ {esc(lv.level)}: slip {esc(fmt_value(lv.slip_pct))} % is within ±3 % of a "
                        f"Meyerding boundary — grade {esc(lv.meyerding)} depends on the measurement.",
                        style=f"color:{AMBER}")
    yield _heading("plan", "Suggested plan")
    if not r.recommendations:
        yield Block("label", "No suggestion: the findings do not trigger any rule.", style=f"color:{MUTED}")
    for i, rec in enumerate(r.recommendations, 1):
        yield Block("recommendation", recommendation_html(i, rec), name="recommendation", rec=rec,
                    details=recommendation_details_html(rec, r))
    yield from _checklists(r)
    if r.cautions:
        yield _heading("cautions", "Cautions", AMBER)
        for note in r.cautions:
            colour = AMBER if note.severity == "warning" else "#cfd8dc"
            yield Block("label", f"• {esc(note.text)}" + _note_sources(note), name="caution", style=f"color:{colour}")
    yield from _missing(r)
    yield from _union(r)
    if r.disagreements:
        yield _heading("disagreements", f"Source disagreements ({len(r.disagreements)})", MUTED)
        yield Block("label", "<br>".join(f"• <b>{esc(d.topic)}</b> — {esc(d.status)}; used: {esc(d.used)}"
                                         for d in r.disagreements), style=f"color:{MUTED}")


def _checklists(r: Any) -> Iterable[Block]:
    if not r.checklists:
        return
    yield _heading("criteria", "Criteria")
    for cl in r.checklists:
        mark, colour = STATUS_MARK.get(cl.status, ("?", GREY))
        lines = [f"<b>{esc(cl.title)}</b> <span style='color:{colour}'>{mark} "
                 f"{esc(STATUS_WORDS.get(cl.status, 'not assessed'))}</span>"]
        why = []
        for c in cl.criteria:
            cm, cc = STATUS_MARK.get(c.status, ("?", GREY))
            req = "" if c.required else f" <span style='color:{MUTED}'>(supporting)</span>"
            lines.append(f"&nbsp;&nbsp;<span style='color:{cc}; font-weight:bold'>{cm}</span> {esc(c.label)}{req}")
            if c.facts:  # variable names stay out of the main text
                why.append(f"{c.label}: " + "; ".join(f"{k} = {fmt_value(x)}" for k, x in c.facts.items()))
        yield Block("label", "<br>".join(lines), name="checklist", tooltip="why?\n" + "\n".join(why) if why else "")


def _missing(r: Any) -> Iterable[Block]:
    if not r.missing:
        return
    yield _heading("missing", "Missing data — would change the suggestion", "#4fc3f7")
    for mi in r.missing:
        extra = []
        if mi.could_change_tier_to:
            tier = TIER_LABELS.get(mi.could_change_tier_to, mi.could_change_tier_to.replace("-", " "))
            extra.append(f"could change the suggestion to <b>{esc(tier)}</b>")
        titles = tuple(getattr(mi, "could_add_titles", ()) or ()) or tuple(a.replace("-", " ") for a in mi.could_add)
        if titles:
            extra.append("could add " + esc(", ".join(titles)))
        tail = f" <span style='color:{MUTED}'>({'; '.join(extra)})</span>" if extra else ""
        yield Block("label", f"? {esc(mi.question)}{tail}", name="missing")


def _union(r: Any) -> Iterable[Block]:
    lines = []
    for lv in r.levels:
        for ps in lv.pars:
            if not ps.union and not ps.union_modifiers:
                continue
            stage = ps.ct_stage or "no stage"
            contra_text = ps.contralateral_ct_stage or ps.contralateral_status
            contra = f", contralateral {esc(contra_text.replace('_', ' ') if contra_text else 'not recorded')}"
            rows = [f"<b>{esc(ps.level)} {esc(ps.side)}</b> — {esc(stage)} ({esc(ps.activity)}){contra}"]
            for u in ps.union:
                rate = "—" if u.rate_pct is None else f"{round_clinical(u.rate_pct)} %"
                counts = f" ({esc(u.counts)})" if u.counts else ""
                prim = " <b>[primary]</b>" if u.primary else ""
                note = f" <span style='color:{MUTED}'>{esc(u.note)}</span>" if u.note else ""
                rows.append(f"&nbsp;&nbsp;{rate}{counts} — {esc(u.cohort)}, {esc(u.key)}{prim}{note}")
            for mod in ps.union_modifiers:
                rows.append(f"&nbsp;&nbsp;<span style='color:{AMBER}'>↓ {esc(mod)}</span>")
            lines.append("<br>".join(rows))
    if lines:
        yield _heading("union", "Expected bony union (cohort figures — shown, not predicted)")
        for text in lines:
            yield Block("label", text, name="union")


def _source_text(result: Any, cid: str) -> str:
    for c in getattr(result, "sources", ()) or ():
        if c.id == cid:
            return citation_html(c)
    return esc(cid)


def _note_sources(note: Any) -> str:
    names = [citation_html(c) for c in (getattr(note, "citations", ()) or ())]
    rules = ", ".join(getattr(note, "rules", ()) or ())
    tail = []
    if rules:
        tail.append(f"rule {esc(rules)}")
    if names:
        tail.append("; ".join(names))
    return f"<br><span style='color:{MUTED}; font-weight:normal'>{' — '.join(tail)}</span>" if tail else ""
