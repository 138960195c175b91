"""ClinicReport -> one self-contained HTML page. Every value is passed through ``html.escape``
(``_e``); markup is only ever written by this module. The same HTML (without the <style> the Qt
text engine ignores) is laid out into the PDF by app/ui/report/pdf.py."""

from __future__ import annotations

import base64
from collections.abc import Callable
from html import escape

from app.pathway.result import PathwayResult
from app.report.model import ClinicReport

_CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 10pt; color: #111; }
h1 { font-size: 15pt; margin: 0 0 4px 0; } h2 { font-size: 12pt; margin: 12px 0 4px 0; }
table { border-collapse: collapse; } td, th { border: 1px solid #999; padding: 2px 5px; vertical-align: top; }
th { background: #e8e8e8; text-align: left; } .redflag { color: #a00000; font-weight: bold; }
.disclaimer { border: 2px solid #a00000; padding: 4px; font-weight: bold; } .muted { color: #555; }
"""

_ICON = {"met": "✔ met", "unmet": "✘ not met", "unknown": "? unknown"}


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table border="1" cellspacing="0" cellpadding="3" width="100%"><tr>{head}</tr>{body}</table>'


def _pairs(rows: tuple[tuple[str, str], ...]) -> str:
    return '<table border="1" cellspacing="0" cellpadding="3">' + "".join(
        f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows) + "</table>"


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _findings(report: ClinicReport) -> list[str]:
    out = ["<h2>Findings</h2>"]
    if report.pars_rows:
        out.append(_table(("Level", "Side", "Pars", "Marrow edema", "MRI grade", "CT stage (basis)", "Gap", "Read on"),
                          [(r.level, r.side, r.status, r.edema, r.mri_grade, r.ct_stage, r.gap, r.read_on)
                           for r in report.pars_rows]))
    else:
        out.append("<p>Pars interarticularis: not assessed.</p>")
    for lv in report.level_rows:
        out.append(f"<p><b>{_e(lv.level)}</b></p>" + _pairs(lv.items))
    if report.spinopelvic:
        out.append("<p><b>Spino-pelvic parameters</b></p>" + _pairs(report.spinopelvic))
    return out


def _pathway(result: PathwayResult | None) -> list[str]:
    out = ["<h2>Pathway (decision support)</h2>"]
    if result is None:
        return [*out, "<p>The pathway was not evaluated.</p>"]
    if result.red_flags:
        out.append('<p class="redflag"><font color="#a00000"><b>RED FLAGS</b></font></p><ul>')
        out += [f'<li class="redflag"><font color="#a00000"><b>[{_e(n.severity)}] {_e(n.text)}</b></font></li>'
                for n in result.red_flags]
        out.append("</ul>")
    out.append("<p><b>Stage:</b> " + _e("; ".join(result.summary) or "no stage") + "</p>")
    out.append(f"<p><b>Tier: {_e(result.tier)}</b> — {_e(result.headline)}</p>")
    if result.assess_first and result.tier == "insufficient":
        out.append("<p>Assess first: " + _e("; ".join(result.assess_first)) + "</p>")
    out.append("<p><b>Plan</b></p>")
    if not result.recommendations:
        out.append("<p>No recommendation.</p>")
    else:
        out.append("<ol>")
        for r in result.recommendations:
            keys = ", ".join(f"{c.id} [{c.evidence}]" for c in r.citations) or "none"
            why = "".join(f"<br/>why: {_e(w)}" for w in r.why)
            disputed = "".join(f"<br/><i>disputed: {_e(d.text)}</i>" for d in r.disputed)
            out.append(f"<li><b>{_e(r.title or r.id)}</b> — {_e(r.text)}{why}"
                       f"<br/><span class=\"muted\">sources: {_e(keys)}</span>{disputed}</li>")
        out.append("</ol>")
    if result.checklists:
        out.append("<p><b>Criteria</b></p>")
        for cl in result.checklists:
            items = "".join(f"<li>{_e(_ICON.get(c.status, c.status))}: {_e(c.label)}"
                            f"{'' if c.required else ' (optional)'}</li>" for c in cl.criteria)
            out.append(f"<p>{_e(cl.title)}: <b>{_e(_ICON.get(cl.status, cl.status))}</b></p><ul>{items}</ul>")
    if result.cautions:
        out.append("<p><b>Cautions</b></p><ul>" + "".join(
            f"<li>[{_e(n.severity)}] {_e(n.text)}</li>" for n in result.cautions) + "</ul>")
    if result.missing:
        out.append("<p><b>Missing data that could change the suggestion</b></p><ul>" + "".join(
            f"<li>? {_e(m.question)}" + (f" — tier could become {_e(m.could_change_tier_to)}" if m.could_change_tier_to else "")
            + "</li>" for m in result.missing) + "</ul>")
    if result.disagreements:
        out.append("<p><b>Where sources disagree</b></p><ul>" + "".join(
            f"<li>{_e(d.topic)} [{_e(d.status)}] — used: {_e(d.used)}</li>" for d in result.disagreements) + "</ul>")
    if result.sources:
        out.append("<p><b>Sources</b></p><ul>" + "".join(
            f"<li>[{_e(c.evidence)}] {_e(c.id)}: {_e(c.text)}</li>" for c in result.sources) + "</ul>")
    return out


def _key_images(report: ClinicReport, image_src: Callable[[int], str]) -> list[str]:
    if not report.key_images:
        return []
    out = ["<h2>Key images</h2>"]
    for i, k in enumerate(report.key_images):
        where = f" <span class=\"muted\">({_e(k.where)})</span>" if k.where else ""
        picture = (f'<img src="{_e(image_src(i))}" width="320"/>' if k.png
                   else "<i>image not available (its series is not loaded)</i>")
        out.append(f'<p>{picture}<br/>{_e(k.caption or "Key image")}{where}</p>')
    return out


def render_html(report: ClinicReport, image_src: Callable[[int], str] | None = None, css: bool = True) -> str:
    """The report page. ``image_src(i)`` names key image i (default: an embedded data: URI)."""
    src = image_src or (lambda i: data_uri(report.key_images[i].png))
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8"/>',
             f"<title>{_e(report.title)}</title>"]
    if css:
        parts.append(f"<style>{_CSS}</style>")
    parts.append("</head><body>")
    parts.append(f'<p class="disclaimer"><font color="#a00000"><b>{_e(report.disclaimer)}</b></font></p>')
    parts.append(f"<h1>{_e(report.title)}</h1>")
    parts.append(_pairs(report.header))
    parts.append("<h2>Impression</h2>")
    impression = _e(report.impression).replace("\n", "<br/>") if report.impression else "No impression recorded."
    parts.append("<p>" + impression + "</p>")
    parts += _findings(report)
    parts += _key_images(report, src)
    parts += _pathway(report.pathway)
    parts.append(f'<p class="disclaimer"><font color="#a00000"><b>{_e(report.disclaimer)}</b></font></p>')
    if report.amendments:
        parts.append("<p><b>Amended on review</b></p><ul>" + "".join(f"<li>{_e(a)}</li>" for a in report.amendments)
                     + "</ul>")
    parts.append(f"<p>{_e(report.sign_off)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
