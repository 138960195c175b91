"""Reference tables for docs/pathway.md, generated from the ruleset so the docs cannot drift.

Regenerate: ``python -m app.pathway.doc_tables --write`` (rewrites everything after the
"## Reference tables" heading of docs/pathway.md); without --write it prints the tables.
"""

from __future__ import annotations

import sys
from pathlib import Path

from app.pathway.predicates import REGISTRY
from app.pathway.rules import REC_GROUPS, Ruleset, load_ruleset

HEADING = "## Reference tables"


def _cell(text: str) -> str:
    return str(text).replace("|", "/").replace("\n", " ")


def tables(rs: Ruleset | None = None) -> str:
    rs = rs or load_ruleset()
    out = [f"Generated from ruleset {rs.id} {rs.version} by `python -m app.pathway.doc_tables --write`.", ""]
    out += ["### Recommendation ids", "", "| id | group | text |", "|---|---|---|"]
    for r in sorted(rs.recommendations.values(), key=lambda r: (REC_GROUPS.index(r.group), r.order)):
        d = f" Disputes: {', '.join(r.disputes)}." if r.disputes else ""
        out.append(f"| `{r.id}` | {r.group} | {_cell(r.text)}{d} |")
    out += ["", "### Red flags and cautions", "", "| id | kind | severity | text |", "|---|---|---|---|"]
    for n in rs.notes.values():
        out.append(f"| `{n.id}` | {n.kind} | {n.severity} | {_cell(n.text)} |")
    out += ["", "### Rules", "", "| id | file | tier | outputs | evidence | sources |", "|---|---|---|---|---|---|"]
    for r in rs.rules:
        tier = r.tier or (f"fallback {r.fallback_tier}" if r.fallback_tier else "—")
        outs = ", ".join([f"`{x}`" for x in r.recommend] + [f"flag `{x}`" for x in r.red_flags]
                         + [f"caution `{x}`" for x in r.cautions])
        out.append(f"| `{r.id}` | {r.file} | {tier} | {outs} | {r.evidence} | {', '.join(r.sources)} |")
    out += ["", "### Checklists", ""]
    for cl in rs.checklists.values():
        out += [f"**{cl.id}** — {_cell(cl.title)}", "", "| criterion | label | required | sources |", "|---|---|---|---|"]
        for c in cl.criteria:
            out.append(f"| `{c.id}` | {_cell(c.label)} | {'yes' if c.required else 'no'} | {', '.join(c.sources)} |")
        out.append("")
    out += ["### Predicates", "", "| name | parameters | facts read | meaning |", "|---|---|---|---|"]
    for p in REGISTRY.values():
        out.append(f"| `{p.name}` | {', '.join(p.params) or '—'} | {', '.join(p.facts)} | {_cell(p.doc)} |")
    out += ["", "### Settings", "", "| name | default | allowed | disagreement | meaning |", "|---|---|---|---|---|"]
    for s in rs.settings.values():
        default = f"{s.default:g} {s.unit}".strip() if isinstance(s.default, float) else str(s.default)
        allowed = ", ".join(s.choices) if s.choices else f"{s.minimum:g}–{s.maximum:g} {s.unit}".strip()
        out.append(f"| `{s.name}` | {default} | {allowed} | {s.disagreement or '—'} | {_cell(s.description)} |")
    out += ["", "### Disagreements", "", "| id | status | setting | positions [evidence] (= alternative value) |",
            "|---|---|---|---|"]
    for d in rs.disagreements.values():
        pos = "; ".join(f"{p.claim} [{p.evidence}]" + (f" (= {p.value})" if p.value is not None else "") for p in d.positions)
        out.append(f"| `{d.id}` | {d.status} | {d.setting or '—'} | {_cell(pos)} |")
    out += ["", "### Union cohorts", "", "| cohort | population | rows |", "|---|---|---|"]
    for c in rs.cohorts:
        rows = "; ".join(f"{r.laterality} {r.stage}" + (f"/{r.contralateral}" if r.contralateral else "")
                         + f" {r.rate_pct:g} %" + (f" ({r.counts})" if r.counts else "") for r in c.rows)
        where = f" (levels {', '.join(c.levels)})" if c.levels else ""
        out.append(f"| `{c.id}` {_cell(c.label)} | {_cell(c.population)}{where} | {rows} |")
    out += ["", "### Sources", "", "| id | evidence | kind | citation | identifier |", "|---|---|---|---|---|"]
    for s in rs.sources.values():
        if s.kind == "seed":
            ident = "seed file, quoted verbatim in the rules"
        else:
            ident = (f"PMID {s.pmid}" if s.pmid else "") or (f"doi:{s.doi}" if s.doi else "") or s.url or "not retrieved"
        out.append(f"| `{s.id}` | {s.evidence} | {s.kind} | {_cell(s.text)} | {ident} |")
    return "\n".join(out) + "\n"


def doc_path() -> Path:
    return Path(__file__).resolve().parents[2] / "docs" / "pathway.md"


def write(path: Path | None = None) -> None:
    path = path or doc_path()
    text = path.read_text(encoding="utf-8")
    head = text.split(HEADING)[0]
    path.write_text(head + HEADING + "\n\n" + tables(), encoding="utf-8")


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        write()
    else:
        sys.stdout.write(tables())
