"""Load and validate a versioned ruleset (TOML, stdlib tomllib) from resources/pathway/.

The manifest (pathway.toml) names the ruleset, its version and its files: sources, settings,
recommendation and note catalogues, checklists, disagreements, union cohorts and the rule files.
``load_ruleset`` checks everything it can before any evaluation: unknown predicates, parameters
and settings, rules without citations, unknown source / recommendation / note / disagreement
ids, duplicate ids, seed quotes without a file. All problems are reported together in one
``RulesetError``, each naming the file and the rule.
"""

from __future__ import annotations

import hashlib
import os
import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.pathway import conditions as cond
from app.pathway.result import TIERS, Citation, Position, SeedQuote
from app.pathway.settings import SettingError, SettingSpec

MANIFEST = "pathway.toml"
EVIDENCE_TAGS = ("V", "P", "U", "S")
REC_GROUPS = ("urgent", "referral", "surgical", "interventional", "conservative", "imaging", "follow-up")
NOTE_KINDS = ("red-flag", "caution")
NOTE_SEVERITIES = {"red-flag": ("urgent", "review"), "caution": ("warning", "info")}
CT_STAGES = ("pre-lysis", "early", "progressive", "terminal")


class RulesetError(Exception):
    """A ruleset that cannot be used; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        head = "invalid pathway ruleset" if len(problems) != 1 else "invalid pathway ruleset: " + problems[0]
        body = "" if len(problems) == 1 else ":\n  - " + "\n  - ".join(problems)
        super().__init__(head + body)


@dataclass(frozen=True)
class RecSpec:
    id: str
    text: str
    group: str
    order: int
    disputes: tuple[str, ...] = ()
    title: str = ""


@dataclass(frozen=True)
class NoteSpec:
    id: str
    kind: str
    severity: str
    text: str
    disputes: tuple[str, ...] = ()


@dataclass(frozen=True)
class CriterionSpec:
    id: str
    label: str
    when: cond.Node
    required: bool
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ChecklistSpec:
    id: str
    title: str
    criteria: tuple[CriterionSpec, ...]


@dataclass(frozen=True)
class DisagreementSpec:
    id: str
    topic: str
    status: str
    used: str
    positions: tuple[Position, ...]
    setting: str | None = None


@dataclass(frozen=True)
class UnionRow:
    laterality: str  # unilateral | bilateral | any
    stage: str
    contralateral: str | None
    rate_pct: float | None
    counts: str = ""
    note: str = ""


@dataclass(frozen=True)
class Cohort:
    id: str
    label: str
    population: str
    sources: tuple[str, ...]
    rows: tuple[UnionRow, ...]
    note: str = ""
    levels: tuple[str, ...] = ()  # levels the cohort studied; empty = any level


@dataclass(frozen=True)
class Rule:
    id: str
    file: str
    title: str
    when: cond.Node
    rationale: str
    sources: tuple[str, ...]
    evidence: str
    tier: str | None = None
    fallback_tier: str | None = None
    recommend: tuple[str, ...] = ()
    red_flags: tuple[str, ...] = ()
    cautions: tuple[str, ...] = ()
    seeds: tuple[SeedQuote, ...] = ()
    disputes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ruleset:
    id: str
    version: str
    effective_date: str
    status: str
    hash: str
    directory: Path
    rules: tuple[Rule, ...]
    recommendations: dict = field(default_factory=dict)  # id -> RecSpec
    notes: dict = field(default_factory=dict)  # id -> NoteSpec
    sources: dict = field(default_factory=dict)  # id -> Citation
    settings: dict = field(default_factory=dict)  # name -> SettingSpec
    checklists: dict = field(default_factory=dict)  # id -> ChecklistSpec
    disagreements: dict = field(default_factory=dict)  # id -> DisagreementSpec
    cohorts: tuple[Cohort, ...] = ()

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


def default_ruleset_dir() -> Path:
    from app.core.paths import resource

    return resource("pathway")


# --------------------------------------------------------------------------- helpers

class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, problem: str) -> None:
        self.items.append(f"{where}: {problem}")


def _read_toml(path: Path, problems: _Problems, hasher) -> dict:
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.add(str(path), f"cannot read the file ({exc.strerror or exc})")
        return {}
    hasher.update(path.name.encode() + b"\0" + data + b"\0")
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.add(str(path), f"not valid TOML ({exc})")
        return {}


def _strs(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# --------------------------------------------------------------------------- sections

def _load_sources(doc: dict, where: str, problems: _Problems) -> dict:
    out: dict[str, Citation] = {}
    for raw in doc.get("source", []):
        sid = raw.get("id")
        if not sid:
            problems.add(where, "a source without an id")
            continue
        if sid in out:
            problems.add(where, f"duplicate source id '{sid}'")
        ev = raw.get("evidence")
        if ev not in EVIDENCE_TAGS:
            problems.add(where, f"source '{sid}': evidence must be one of {'/'.join(EVIDENCE_TAGS)}, got {ev!r}")
        kind = raw.get("kind", "literature")
        if kind not in ("literature", "guideline", "seed"):
            problems.add(where, f"source '{sid}': kind must be literature, guideline or seed")
        if not raw.get("text"):
            problems.add(where, f"source '{sid}': missing citation text")
        if kind != "seed" and not (raw.get("pmid") or raw.get("doi") or raw.get("url") or raw.get("no_identifier")):
            problems.add(where, f"source '{sid}': needs a PMID, DOI or URL (or no_identifier = reason)")
        out[sid] = Citation(id=sid, text=str(raw.get("text", "")), evidence=str(ev), kind=kind,
                            pmid=str(raw.get("pmid", "")), doi=str(raw.get("doi", "")), url=str(raw.get("url", "")))
    return out


def _load_settings(doc: dict, where: str, problems: _Problems) -> dict:
    out: dict[str, SettingSpec] = {}
    for name, raw in (doc.get("setting") or {}).items():
        try:
            typ = raw.get("type", "float")
            if typ not in ("float", "int", "str"):
                raise SettingError(f"type must be float, int or str, got {typ!r}")
            spec = SettingSpec(
                name=name, type=typ, default=None, description=str(raw.get("description", "")),
                unit=str(raw.get("unit", "")), minimum=raw.get("min"), maximum=raw.get("max"),
                choices=_strs(raw.get("choices")), disagreement=raw.get("disagreement"),
                sources=_strs(raw.get("sources")),
            )
            if "default" not in raw:
                raise SettingError("no default")
            default = spec.coerce(raw["default"])
            out[name] = SettingSpec(**{**spec.__dict__, "default": default})
            if not spec.description:
                problems.add(where, f"setting '{name}': missing description")
            if not spec.sources:
                problems.add(where, f"setting '{name}': missing sources for its default")
        except SettingError as exc:
            problems.add(where, f"setting '{name}': {exc}")
    return out


def _load_recs(doc: dict, where: str, problems: _Problems) -> dict:
    out: dict[str, RecSpec] = {}
    for i, raw in enumerate(doc.get("recommendation", [])):
        rid = raw.get("id")
        if not rid:
            problems.add(where, f"recommendation #{i + 1} has no id")
            continue
        if rid in out:
            problems.add(where, f"duplicate recommendation id '{rid}'")
        group = raw.get("group")
        if group not in REC_GROUPS:
            problems.add(where, f"recommendation '{rid}': group must be one of {', '.join(REC_GROUPS)}")
        if not raw.get("text"):
            problems.add(where, f"recommendation '{rid}': missing text")
        if not raw.get("title"):
            problems.add(where, f"recommendation '{rid}': missing title (the short clinician-facing name)")
        out[rid] = RecSpec(rid, str(raw.get("text", "")), str(group), i, _strs(raw.get("disputes")),
                           str(raw.get("title", "")))
    return out


def _load_notes(doc: dict, where: str, problems: _Problems) -> dict:
    out: dict[str, NoteSpec] = {}
    for raw in doc.get("note", []):
        nid = raw.get("id")
        if not nid:
            problems.add(where, "a note without an id")
            continue
        if nid in out:
            problems.add(where, f"duplicate note id '{nid}'")
        kind = raw.get("kind")
        sev = raw.get("severity")
        if kind not in NOTE_KINDS:
            problems.add(where, f"note '{nid}': kind must be red-flag or caution")
        elif sev not in NOTE_SEVERITIES[kind]:
            problems.add(where, f"note '{nid}': severity for a {kind} must be one of {', '.join(NOTE_SEVERITIES[kind])}")
        if not raw.get("text"):
            problems.add(where, f"note '{nid}': missing text")
        out[nid] = NoteSpec(nid, str(kind), str(sev), str(raw.get("text", "")), _strs(raw.get("disputes")))
    return out


def _load_checklists(doc: dict, where: str, problems: _Problems) -> dict:
    out: dict[str, ChecklistSpec] = {}
    for raw in doc.get("checklist", []):
        cid = raw.get("id")
        if not cid:
            problems.add(where, "a checklist without an id")
            continue
        if cid in out:
            problems.add(where, f"duplicate checklist id '{cid}'")
        items = []
        seen = set()
        for c in raw.get("criterion", []):
            crid = c.get("id", "")
            if crid in seen:
                problems.add(where, f"checklist '{cid}': duplicate criterion '{crid}'")
            seen.add(crid)
            try:
                node = cond.parse(c.get("when"))
            except cond.ConditionError as exc:
                problems.add(where, f"checklist '{cid}' criterion '{crid}': {exc}")
                continue
            if not c.get("sources"):
                problems.add(where, f"checklist '{cid}' criterion '{crid}': missing citations (sources)")
            items.append(CriterionSpec(crid, str(c.get("label", crid)), node, bool(c.get("required", True)),
                                       _strs(c.get("sources"))))
        out[cid] = ChecklistSpec(cid, str(raw.get("title", cid)), tuple(items))
    return out


def _load_disagreements(doc: dict, where: str, problems: _Problems) -> dict:
    out: dict[str, DisagreementSpec] = {}
    for raw in doc.get("disagreement", []):
        did = raw.get("id")
        if not did:
            problems.add(where, "a disagreement without an id")
            continue
        if did in out:
            problems.add(where, f"duplicate disagreement id '{did}'")
        status = raw.get("status", "disputed")
        if status not in ("disputed", "contradicted", "unconfirmed"):
            problems.add(where, f"disagreement '{did}': status must be disputed, contradicted or unconfirmed")
        positions = []
        for p in raw.get("position", []):
            ev = p.get("evidence")
            if ev not in EVIDENCE_TAGS:
                problems.add(where, f"disagreement '{did}': a position needs an evidence tag V/P/U/S")
            positions.append(Position(str(p.get("claim", "")), str(ev), _strs(p.get("sources")), p.get("value")))
        if len(positions) < 2 and status == "disputed":
            problems.add(where, f"disagreement '{did}': a dispute needs at least two positions")
        out[did] = DisagreementSpec(did, str(raw.get("topic", did)), str(status), str(raw.get("used", "")),
                                    tuple(positions), raw.get("setting"))
    return out


def _load_union(doc: dict, where: str, problems: _Problems) -> tuple[Cohort, ...]:
    out = []
    seen = set()
    for raw in doc.get("cohort", []):
        cid = raw.get("id")
        if not cid or cid in seen:
            problems.add(where, f"cohort id missing or duplicated: {cid!r}")
            continue
        seen.add(cid)
        rows = []
        for r in raw.get("row", []):
            lat = r.get("laterality", "any")
            stage = r.get("stage")
            contra = r.get("contralateral")
            if lat not in ("unilateral", "bilateral", "any") or stage not in CT_STAGES or (
                    contra is not None and contra not in CT_STAGES):
                problems.add(where, f"cohort '{cid}': bad row {r!r}")
                continue
            rows.append(UnionRow(lat, stage, contra, r.get("rate_pct"), str(r.get("counts", "")), str(r.get("note", ""))))
        if not raw.get("sources"):
            problems.add(where, f"cohort '{cid}': missing sources")
        levels = _strs(raw.get("levels"))
        bad_levels = [lv for lv in levels if lv not in ("L1", "L2", "L3", "L4", "L5", "S1")]
        if bad_levels:
            problems.add(where, f"cohort '{cid}': unknown level(s) {bad_levels}")
        out.append(Cohort(cid, str(raw.get("label", cid)), str(raw.get("population", "")), _strs(raw.get("sources")),
                          tuple(rows), str(raw.get("note", "")), levels))
    return tuple(out)


def _load_rules(doc: dict, where: str, file_label: str, problems: _Problems) -> list[Rule]:
    out = []
    if "version" not in doc:
        problems.add(where, "rule file has no version")
    for i, raw in enumerate(doc.get("rule", [])):
        rid = raw.get("id") or f"#{i + 1}"
        at = f"{where}: rule '{rid}'"
        if not raw.get("id"):
            problems.items.append(f"{at}: missing id")
        try:
            node = cond.parse(raw.get("when"))
        except cond.ConditionError as exc:
            problems.items.append(f"{at}: {exc}")
            continue
        tier, fb = raw.get("tier"), raw.get("fallback_tier")
        for name, t in (("tier", tier), ("fallback_tier", fb)):
            if t is not None and t not in TIERS:
                problems.items.append(f"{at}: {name} must be one of {', '.join(TIERS)}, got {t!r}")
        if not raw.get("sources"):
            problems.items.append(f"{at}: missing citations (sources)")
        ev = raw.get("evidence")
        if ev not in EVIDENCE_TAGS:
            problems.items.append(f"{at}: evidence must be one of {'/'.join(EVIDENCE_TAGS)}, got {ev!r}")
        if not raw.get("rationale"):
            problems.items.append(f"{at}: missing rationale")
        seeds = []
        for s in raw.get("seed", []):
            if not s.get("file") or not s.get("quote"):
                problems.items.append(f"{at}: a seed entry needs file and quote")
                continue
            seeds.append(SeedQuote(str(s["file"]), str(s["quote"])))
        if not (raw.get("recommend") or raw.get("red_flags") or raw.get("cautions") or tier or fb):
            problems.items.append(f"{at}: has no output (recommend, red_flags, cautions or tier)")
        out.append(Rule(
            id=str(rid), file=file_label, title=str(raw.get("title", rid)), when=node,
            rationale=str(raw.get("rationale", "")), sources=_strs(raw.get("sources")), evidence=str(ev),
            tier=tier, fallback_tier=fb, recommend=_strs(raw.get("recommend")),
            red_flags=_strs(raw.get("red_flags")), cautions=_strs(raw.get("cautions")),
            seeds=tuple(seeds), disputes=_strs(raw.get("disputes")),
        ))
    return out


# --------------------------------------------------------------------------- cross-references

def _cross_check(rs: dict, problems: _Problems) -> None:
    sources, settings = rs["sources"], rs["settings"]
    recs, notes, checklists, dis = rs["recommendations"], rs["notes"], rs["checklists"], rs["disagreements"]

    def check_sources(at: str, ids) -> None:
        for s in ids:
            if s not in sources:
                problems.items.append(f"{at}: unknown source '{s}'")

    def check_settings_in(at: str, node) -> None:
        for s in cond.setting_refs(node):
            if s not in settings:
                problems.items.append(f"{at}: unknown setting '${s}'")

    def check_text(at: str, text: str) -> None:
        for s in _placeholders(text):
            if s not in settings:
                problems.items.append(f"{at}: text refers to unknown setting '{{{s}}}'")

    def check_checklist_refs(at: str, node) -> None:
        for ref in cond.checklist_ref_nodes(node):
            if ref.checklist_id not in checklists:
                problems.items.append(f"{at}: unknown checklist '{ref.checklist_id}'")
                continue
            known = {c.id for c in checklists[ref.checklist_id].criteria}
            for w in ref.without:
                if w not in known:
                    problems.items.append(f"{at}: checklist '{ref.checklist_id}' has no criterion '{w}' to leave out")

    def cycle_from(cid: str, path: tuple[str, ...]) -> tuple[str, ...] | None:
        if cid in path:
            return (*path, cid)
        for c in checklists[cid].criteria:
            for ref in cond.checklist_ref_nodes(c.when):
                if ref.checklist_id in checklists:
                    found = cycle_from(ref.checklist_id, (*path, cid))
                    if found:
                        return found
        return None

    for cl in checklists.values():
        for c in cl.criteria:
            check_checklist_refs(f"checklist '{cl.id}' criterion '{c.id}'", c.when)
        loop = cycle_from(cl.id, ())
        if loop and loop[0] == cl.id:
            problems.items.append(f"checklist '{cl.id}': refers to itself through {' -> '.join(loop)}")

    seen: dict[str, str] = {}
    for r in rs["rules"]:
        at = f"{r.file}: rule '{r.id}'"
        if r.id in seen:
            problems.items.append(f"{at}: duplicate rule id (also in {seen[r.id]})")
        seen.setdefault(r.id, r.file)
        check_sources(at, r.sources)
        check_settings_in(at, r.when)
        check_text(at + " rationale", r.rationale)
        check_checklist_refs(at, r.when)
        for x in r.recommend:
            if x not in recs:
                problems.items.append(f"{at}: unknown recommendation id '{x}'")
        for x in r.red_flags:
            if x not in notes or notes[x].kind != "red-flag":
                problems.items.append(f"{at}: unknown red flag '{x}'")
        for x in r.cautions:
            if x not in notes or notes[x].kind != "caution":
                problems.items.append(f"{at}: unknown caution '{x}'")
        for x in r.disputes:
            if x not in dis:
                problems.items.append(f"{at}: unknown disagreement '{x}'")
    for rec in recs.values():
        check_text(f"recommendation '{rec.id}'", rec.text)
        for x in rec.disputes:
            if x not in dis:
                problems.items.append(f"recommendation '{rec.id}': unknown disagreement '{x}'")
    for n in notes.values():
        check_text(f"note '{n.id}'", n.text)
        for x in n.disputes:
            if x not in dis:
                problems.items.append(f"note '{n.id}': unknown disagreement '{x}'")
    for cl in checklists.values():
        for c in cl.criteria:
            at = f"checklist '{cl.id}' criterion '{c.id}'"
            check_sources(at, c.sources)
            check_settings_in(at, c.when)
            check_text(at, c.label)
    for d in dis.values():
        if d.setting is not None and d.setting not in settings:
            problems.items.append(f"disagreement '{d.id}': unknown setting '{d.setting}'")
        for p in d.positions:
            check_sources(f"disagreement '{d.id}'", p.sources)
            if d.setting in settings and p.value is not None:
                try:
                    settings[d.setting].coerce(p.value)
                except SettingError as exc:
                    problems.items.append(f"disagreement '{d.id}': {exc}")
    for s in settings.values():
        check_sources(f"setting '{s.name}'", s.sources)
        if s.disagreement is not None and s.disagreement not in dis:
            problems.items.append(f"setting '{s.name}': unknown disagreement '{s.disagreement}'")
    for c in rs["cohorts"]:
        check_sources(f"cohort '{c.id}'", c.sources)


# --------------------------------------------------------------------------- entry point

def load_ruleset(path: str | os.PathLike | None = None) -> Ruleset:
    """Load the ruleset whose manifest is ``path`` (a pathway.toml or the folder holding it)."""
    p = Path(path) if path is not None else default_ruleset_dir()
    manifest_path = p / MANIFEST if p.is_dir() else p
    base = manifest_path.parent
    problems = _Problems()
    hasher = hashlib.sha256()
    if not manifest_path.exists():
        raise RulesetError([f"{manifest_path}: ruleset manifest not found"])
    manifest = _read_toml(manifest_path, problems, hasher)
    if problems.items:
        raise RulesetError(problems.items)
    meta = manifest.get("ruleset", {})
    files = manifest.get("files", {})
    for key in ("id", "version"):
        if not meta.get(key):
            problems.add(str(manifest_path), f"[ruleset] needs '{key}'")
    sections: dict[str, Any] = {}
    for key, loader in (("sources", _load_sources), ("settings", _load_settings),
                        ("recommendations", _load_recs), ("notes", _load_notes),
                        ("checklists", _load_checklists), ("disagreements", _load_disagreements),
                        ("union", _load_union)):
        name = files.get(key)
        if not name:
            problems.add(str(manifest_path), f"[files] needs '{key}'")
            sections[key] = {} if key != "union" else ()
            continue
        fp = base / name
        sections[key] = loader(_read_toml(fp, problems, hasher), str(fp), problems)
    rules: list[Rule] = []
    rule_files = _strs(files.get("rules"))
    if not rule_files:
        problems.add(str(manifest_path), "[files] needs 'rules' (a list of rule files)")
    for name in rule_files:
        fp = base / name
        rules.extend(_load_rules(_read_toml(fp, problems, hasher), str(fp), name, problems))
    data = {**sections, "rules": rules, "cohorts": sections.pop("union")}
    _cross_check(data, problems)
    if problems.items:
        raise RulesetError(problems.items)
    return Ruleset(
        id=str(meta["id"]), version=str(meta["version"]), effective_date=str(meta.get("effective_date", "")),
        status=str(meta.get("status", "")), hash="sha256:" + hasher.hexdigest(), directory=base,
        rules=tuple(rules), recommendations=data["recommendations"], notes=data["notes"],
        sources=data["sources"], settings=data["settings"], checklists=data["checklists"],
        disagreements=data["disagreements"], cohorts=data["cohorts"],
    )
