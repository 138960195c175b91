"""PathwayPanel: shows the latest PathwayResult of a StudySession, with its sources.

Top to bottom: the decision-support disclaimer (always visible, outside the scroll area),
management tier badge, RED FLAGS, stage summary, the ordered plan (each suggestion with a
"why?" expander: rules, rationale, facts used, citations, disputed thresholds with their
alternatives), criteria checklists (✓ met / ✗ unmet / ? unknown), cautions, missing data that
would change the suggestion, expected union per pars with its cohort, and the ruleset version.

The panel only displays: it never decides. It redraws on ``session.pathway_changed``.
"""

from __future__ import annotations

import contextlib
import html
import time
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

RENDER_INTERVAL_MS = 120  # redraw throttle while results change quickly

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


def esc(value: Any) -> str:
    return html.escape(str(value), quote=False)


def _fmt_value(v: Any) -> str:
    if v is None:
        return "unknown"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return _round(v)
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt_value(x) for x in v) or "—"
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_fmt_value(x)}" for k, x in v.items()) or "—"
    if hasattr(v, "value"):
        return str(v.value)
    return str(v)


def _round(v: float) -> str:
    """Clinically sensible precision: 18 (not 18.2609) from 10 up, one decimal below."""
    if abs(v) >= 10:
        return f"{v:.0f}"
    return f"{v:.1f}".rstrip("0").rstrip(".")


def citation_html(c: Any) -> str:
    """One citation as rich text: text, evidence grade, PMID/DOI/URL links."""
    text = esc(getattr(c, "text", c))
    parts = [text]
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


def _label(text: str, parent: QWidget, *, rich: bool = True, style: str = "", name: str = "") -> QLabel:
    lab = QLabel(parent)
    lab.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    lab.setText(text)
    lab.setWordWrap(True)
    lab.setOpenExternalLinks(True)
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    lab.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    if style:
        lab.setStyleSheet(style)
    if name:
        lab.setObjectName(name)
    return lab


def _heading(text: str, parent: QWidget, colour: str = "#e0e0e0") -> QLabel:
    lab = QLabel(text, parent)
    lab.setObjectName("sectionHeading")
    lab.setStyleSheet(f"font-weight: bold; color: {colour}; margin-top: 8px; "
                      f"border-bottom: 1px solid #555; padding-bottom: 2px;")
    return lab


class _Body(QWidget):
    """Scroll-area content whose height follows its width (word-wrapped labels), instead of
    the tall minimum Qt computes at the narrowest width (which leaves empty space below)."""

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(hint.width(), 0)


class RecommendationItem(QFrame):
    """One step of the plan with a "why?" expander."""

    def __init__(self, number: int, rec: Any, result: Any, parent: QWidget) -> None:
        super().__init__(parent)
        self.rec = rec
        self.setObjectName("recommendation")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(2)
        row = QHBoxLayout()
        group = getattr(rec, "group", "")
        colour = GROUP_COLOURS.get(group, "#e0e0e0")
        tag = f"<span style='color:{colour}; font-weight:bold'>{esc(group)}</span> " if group else ""
        self.text_label = _label(f"<b>{number}.</b> {tag}{esc(rec.text)}", self)
        row.addWidget(self.text_label, 1)
        self.why_button = QToolButton(self)
        self.why_button.setText("why?")
        self.why_button.setCheckable(True)
        self.why_button.setToolTip("Show the rule, the facts it used, the rationale and the sources")
        self.why_button.toggled.connect(self.set_expanded)
        row.addWidget(self.why_button, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(row)
        self.details = _label(self._details_html(rec, result), self, name="whyDetails",
                              style="background:#1f2326; border-left: 3px solid #5c6bc0; padding: 4px;")
        self.details.setVisible(False)
        lay.addWidget(self.details)

    @property
    def rec_id(self) -> str:
        return getattr(self.rec, "id", "")

    def set_expanded(self, on: bool) -> None:
        if self.why_button.isChecked() != on:
            self.why_button.setChecked(on)
            return
        self.details.setVisible(on)
        self.why_button.setText("hide" if on else "why?")

    @staticmethod
    def _details_html(rec: Any, result: Any) -> str:
        out = []
        rules = getattr(rec, "rules", ()) or ()
        out.append(f"<b>Rule{'s' if len(rules) != 1 else ''}:</b> {esc(', '.join(rules)) or '—'}"
                   f" <span style='color:{MUTED}'>(suggestion id {esc(rec.id)})</span>")
        why = getattr(rec, "why", ()) or ()
        if why:
            out.append("<b>Rationale:</b><ul style='margin:0'>" + "".join(f"<li>{esc(w)}</li>" for w in why) + "</ul>")
        facts = getattr(rec, "facts", {}) or {}
        if facts:
            out.append("<b>Facts used:</b> " + "; ".join(f"{esc(k)} = <i>{esc(_fmt_value(v))}</i>" for k, v in facts.items()))
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


def disputed_html(note: Any, result: Any) -> str:
    """A disputed threshold: the note, what this ruleset uses, and every position with sources."""
    dis = None
    for d in getattr(result, "disagreements", ()) or ():
        if d.id == getattr(note, "disagreement_id", None):
            dis = d
            break
    head = f"<span style='color:{AMBER}'><b>⚠ Disputed:</b> {esc(note.text)}</span>"
    if dis is None:
        return head
    lines = [head, f"<i>{esc(dis.topic)}</i> — {esc(dis.status)}; this ruleset: {esc(dis.used)}"]
    if dis.setting:
        lines[-1] += f" (setting <code>{esc(dis.setting)}</code> = {esc(_fmt_value(dis.value_used))})"
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


def _source_text(result: Any, cid: str) -> str:
    for c in getattr(result, "sources", ()) or ():
        if c.id == cid:
            return citation_html(c)
    return esc(cid)


class PathwayPanel(QWidget):
    """Read-only view of ``session.pathway_result`` (see module docstring)."""

    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PathwayPanel")
        self.session = session
        self._expanded: set[str] = set()
        self.red_flag_labels: list[QLabel] = []
        self.recommendation_items: list[RecommendationItem] = []
        self.section_labels: dict[str, QLabel] = {}

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(4)
        self.disclaimer_label = _label(esc(DEFAULT_DISCLAIMER), self, name="disclaimer", style=(
            "background:#3e2f00; color:#ffd54f; border:1px solid #ffb300; padding:5px; font-weight:bold;"))
        lay.addWidget(self.disclaimer_label)

        head = QHBoxLayout()
        self.tier_badge = QLabel("", self)
        self.tier_badge.setObjectName("tierBadge")
        self.tier_badge.setWordWrap(True)  # a long headline wraps instead of widening the dock
        head.addWidget(self.tier_badge, 0)
        self.tier_rules_label = _label("", self, style=f"color:{MUTED}")
        head.addWidget(self.tier_rules_label, 1)
        lay.addLayout(head)

        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        lay.addWidget(self.scroll, 1)
        self.footer_label = _label("", self, style=f"color:{MUTED}; font-size: 9pt;", name="rulesetVersion")
        lay.addWidget(self.footer_label)

        self.result: Any = None
        self._shown: Any = ("nothing shown yet",)
        self._last_render = 0.0
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.timeout.connect(self.flush)
        session.pathway_changed.connect(self._on_pathway_changed)
        self.flush()

    # ------------------------------------------------------------------ scheduling
    def _on_pathway_changed(self, *_: Any) -> None:
        """Redraw soon: at once when idle, at most every RENDER_INTERVAL_MS during bursts
        (dragging a landmark), and only when visible (a hidden tab redraws when shown)."""
        if not self.isVisible():
            return  # showEvent renders
        wait_ms = RENDER_INTERVAL_MS - (time.monotonic() - self._last_render) * 1000.0
        if not self._render_timer.isActive():
            self._render_timer.start(max(0, int(wait_ms)))

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.flush()

    def flush(self) -> None:
        """Draw the session's current result now, if it differs from what is shown."""
        self._render_timer.stop()
        result = getattr(self.session, "pathway_result", None)
        key = (result, getattr(self.session, "pathway_error", ""))
        if key == self._shown:
            return
        self._shown = key
        self._last_render = time.monotonic()
        self._redraw(result)

    # ------------------------------------------------------------------ rendering
    def _redraw(self, result: Any) -> None:
        self.result = result
        for item in self.recommendation_items:
            if item.why_button.isChecked():
                self._expanded.add(item.rec_id)
            else:
                self._expanded.discard(item.rec_id)
        pos = self.scroll.verticalScrollBar().value()
        self.red_flag_labels = []
        self.recommendation_items = []
        self.section_labels = {}
        body = _Body()
        body.setObjectName("pathwayBody")
        v = QVBoxLayout(body)
        v.setSizeConstraint(QVBoxLayout.SizeConstraint.SetNoConstraint)
        v.setContentsMargins(2, 2, 2, 2)
        v.setSpacing(3)
        if result is None:
            self._render_empty(body, v)
        else:
            self._render(result, body, v)
        v.addStretch(1)
        old = self.scroll.takeWidget()
        self.scroll.setWidget(body)
        if old is not None:
            old.deleteLater()
        self.scroll.verticalScrollBar().setValue(pos)

    def _render_empty(self, body: QWidget, v: QVBoxLayout) -> None:
        self.tier_badge.setText("")
        self.tier_badge.setVisible(False)
        self.tier_rules_label.setText("")
        reason = getattr(self.session, "pathway_error", "") or "No pathway ruleset loaded."
        v.addWidget(_label(esc(reason), body, style=f"color:{AMBER}"))
        self.footer_label.setText("")

    def _render(self, r: Any, body: QWidget, v: QVBoxLayout) -> None:
        self.disclaimer_label.setText(esc(_disclaimer_text(r)))
        # tier ----------------------------------------------------------
        bg, fg = TIER_COLOURS.get(r.tier, ("#455a64", "#ffffff"))
        self.tier_badge.setText(esc(TIER_LABELS.get(r.tier) or getattr(r, "headline", "") or r.tier.replace("-", " ")))
        self.tier_badge.setProperty("tier", r.tier)
        self.tier_badge.setStyleSheet(f"background:{bg}; color:{fg}; font-weight:bold; padding:4px 10px; "
                                      f"border-radius:4px; font-size: 11pt;")
        self.tier_badge.setVisible(True)
        rules = ", ".join(r.tier_rules)
        self.tier_rules_label.setText("Management suggestion")
        self.tier_badge.setToolTip(f"why? rules: {rules}" if rules else "")
        assess = tuple(getattr(r, "assess_first", ()) or ())
        if r.tier == "insufficient" or assess:
            v.addWidget(_label("<b>Assess first:</b><br>" + "<br>".join(f"? {esc(a)}" for a in assess)
                               if assess else "Assess the pars, the slip and the clinical context first.",
                               body, name="assessFirst", style=f"color:{GREY}; font-size: 10pt;"))

        # red flags ---------------------------------------------------------
        if r.red_flags:
            v.addWidget(_heading("⚠ RED FLAGS", body, RED))
            for note in r.red_flags:
                lab = _label(f"<b>{esc(note.text)}</b>"
                             + _note_sources(note), body, name="redFlag",
                             style=f"color:{RED}; border:1px solid {RED}; background:#3b1111; padding:4px;")
                lab.setProperty("severity", note.severity)
                self.red_flag_labels.append(lab)
                v.addWidget(lab)

        # stage summary -----------------------------------------------------
        if r.summary:
            self._section("stage", "Stage", body, v)
            v.addWidget(_label("<br>".join(f"• {esc(s)}" for s in r.summary), body, name="summary",
                               style="font-size: 10pt;"))
            near = [lv for lv in r.levels if lv.near_meyerding_boundary]
            for lv in near:
                v.addWidget(_label(f"⚠ {esc(lv.level)}: slip {esc(_fmt_value(lv.slip_pct))} % is within ±3 % of a "
                                   f"Meyerding boundary — grade {esc(lv.meyerding)} depends on the measurement.",
                                   body, style=f"color:{AMBER}"))

        # plan ----------------------------------------------------------------
        self._section("plan", "Suggested plan", body, v)
        if not r.recommendations:
            v.addWidget(_label("No suggestion: the findings do not trigger any rule.", body, style=f"color:{MUTED}"))
        for i, rec in enumerate(r.recommendations, 1):
            item = RecommendationItem(i, rec, r, body)
            if item.rec_id in self._expanded:
                item.set_expanded(True)
            self.recommendation_items.append(item)
            v.addWidget(item)

        # checklists ----------------------------------------------------------
        if r.checklists:
            self._section("criteria", "Criteria", body, v)
            for cl in r.checklists:
                mark, colour = STATUS_MARK.get(cl.status, ("?", GREY))
                lines = [f"<b>{esc(cl.title)}</b> <span style='color:{colour}'>{mark} "
                         f"{esc(STATUS_WORDS.get(cl.status, 'not assessed'))}</span>"]
                why = []
                for c in cl.criteria:
                    cm, cc = STATUS_MARK.get(c.status, ("?", GREY))
                    req = "" if c.required else f" <span style='color:{MUTED}'>(supporting)</span>"
                    lines.append(f"&nbsp;&nbsp;<span style='color:{cc}; font-weight:bold'>{cm}</span> "
                                 f"{esc(c.label)}{req}")
                    if c.facts:  # variable names stay out of the main text
                        why.append(f"{c.label}: " + "; ".join(f"{k} = {_fmt_value(x)}" for k, x in c.facts.items()))
                lab = _label("<br>".join(lines), body, name="checklist")
                lab.setToolTip("why?\n" + "\n".join(why) if why else "")
                v.addWidget(lab)

        # cautions ----------------------------------------------------------
        if r.cautions:
            self._section("cautions", "Cautions", body, v, AMBER)
            for note in r.cautions:
                colour = AMBER if note.severity == "warning" else "#cfd8dc"
                v.addWidget(_label(f"• {esc(note.text)}" + _note_sources(note), body, style=f"color:{colour}",
                                   name="caution"))

        # missing -----------------------------------------------------------
        if r.missing:
            self._section("missing", "Missing data — would change the suggestion", body, v, "#4fc3f7")
            for mi in r.missing:
                extra = []
                if mi.could_change_tier_to:
                    tier = TIER_LABELS.get(mi.could_change_tier_to, mi.could_change_tier_to.replace("-", " "))
                    extra.append(f"could change the suggestion to <b>{esc(tier)}</b>")
                titles = tuple(getattr(mi, "could_add_titles", ()) or ()) or tuple(
                    a.replace("-", " ") for a in mi.could_add)
                if titles:
                    extra.append("could add " + esc(", ".join(titles)))
                tail = f" <span style='color:{MUTED}'>({'; '.join(extra)})</span>" if extra else ""
                v.addWidget(_label(f"? {esc(mi.question)}{tail}", body, name="missing"))

        # union -------------------------------------------------------------
        union_lines = []
        for lv in r.levels:
            for ps in lv.pars:
                if not ps.union and not ps.union_modifiers:
                    continue
                stage = ps.ct_stage or "no stage"
                contra_text = ps.contralateral_ct_stage or ps.contralateral_status
                contra = f", contralateral {esc(contra_text.replace('_', ' ') if contra_text else 'not recorded')}"
                head = (f"<b>{esc(ps.level)} {esc(ps.side)}</b> — {esc(stage)} ({esc(ps.activity)}){contra}")
                rows = []
                for u in ps.union:
                    rate = "—" if u.rate_pct is None else f"{_round(u.rate_pct)} %"
                    counts = f" ({esc(u.counts)})" if u.counts else ""
                    prim = " <b>[primary]</b>" if u.primary else ""
                    note = f" <span style='color:{MUTED}'>{esc(u.note)}</span>" if u.note else ""
                    rows.append(f"&nbsp;&nbsp;{rate}{counts} — {esc(u.cohort)}, {esc(u.key)}{prim}{note}")
                for mod in ps.union_modifiers:
                    rows.append(f"&nbsp;&nbsp;<span style='color:{AMBER}'>↓ {esc(mod)}</span>")
                union_lines.append("<br>".join([head, *rows]))
        if union_lines:
            self._section("union", "Expected bony union (cohort figures — shown, not predicted)", body, v)
            for text in union_lines:
                v.addWidget(_label(text, body, name="union"))

        # disagreements -------------------------------------------------------
        if r.disagreements:
            self._section("disagreements", f"Source disagreements ({len(r.disagreements)})", body, v, MUTED)
            lines = []
            for d in r.disagreements:
                lines.append(f"• <b>{esc(d.topic)}</b> — {esc(d.status)}; used: {esc(d.used)}")
            v.addWidget(_label("<br>".join(lines), body, style=f"color:{MUTED}"))

        # footer ------------------------------------------------------------
        ms = getattr(self.session, "last_evaluate_ms", None)
        timing = f" · evaluated in {ms:.1f} ms" if isinstance(ms, (int, float)) and ms else ""
        digest = r.ruleset_hash.split(":", 1)[-1][:12]
        self.footer_label.setText(f"Ruleset {esc(r.ruleset_id)} v{esc(r.ruleset_version)} "
                                  f"(sha256 {esc(digest)}){timing}")

    def _section(self, key: str, title: str, body: QWidget, v: QVBoxLayout, colour: str = "#e0e0e0") -> None:
        lab = _heading(title, body, colour)
        self.section_labels[key] = lab
        v.addWidget(lab)

    # ------------------------------------------------------------------ queries for tests / hosts
    def item_for(self, rec_id: str) -> RecommendationItem | None:
        for item in self.recommendation_items:
            if item.rec_id == rec_id:
                return item
        return None

    def all_text(self) -> str:
        """Every visible label's text (plain), for tests and copy-out."""
        texts = [self.disclaimer_label.text(), self.tier_badge.text()]
        body = self.scroll.widget()
        if body is not None:
            for lab in body.findChildren(QLabel):
                if lab.isVisibleTo(self):
                    texts.append(lab.text())
        return "\n".join(texts)

    # ------------------------------------------------------------------ cleanup
    def cleanup(self) -> None:
        with contextlib.suppress(Exception):
            self.session.pathway_changed.disconnect(self._on_pathway_changed)

    def closeEvent(self, event: Any) -> None:
        self.cleanup()
        super().closeEvent(event)


def _disclaimer_text(r: Any) -> str:
    d = (getattr(r, "disclaimer", "") or "").strip()
    if not d:
        return DEFAULT_DISCLAIMER
    if "source" not in d.lower():
        d = d.rstrip(".") + ". Suggestions follow the rules and sources shown."
    return d


def _note_sources(note: Any) -> str:
    cits: Iterable[Any] = getattr(note, "citations", ()) or ()
    names = [citation_html(c) for c in cits]
    rules = ", ".join(getattr(note, "rules", ()) or ())
    tail = []
    if rules:
        tail.append(f"rule {esc(rules)}")
    if names:
        tail.append("; ".join(names))
    return f"<br><span style='color:{MUTED}; font-weight:normal'>{' — '.join(tail)}</span>" if tail else ""
