"""What changed between two findings, in words ("pars L5 left", "impression"), for the record of
who amended a reviewed read (Qt-free). The record itself (``Amendment``) lives in the findings
model (``StudyFindings.amendments``, schema 4): it is saved with them and exported to the SR."""

from __future__ import annotations

import datetime as _dt

from app.findings.model import Amendment, Level, StudyFindings

__all__ = ["Amendment", "amendment", "describe_changes"]


def describe_changes(old: StudyFindings, new: StudyFindings) -> tuple[str, ...]:
    out: list[str] = []
    old_pars = {(p.level, p.side): p for p in old.pars}
    new_pars = {(p.level, p.side): p for p in new.pars}
    for key in sorted(set(old_pars) | set(new_pars), key=lambda k: (list(Level).index(k[0]), k[1].value)):
        if old_pars.get(key) != new_pars.get(key):
            out.append(f"pars {key[0].value} {key[1].value}")
    old_lv = {lv.level: lv for lv in old.levels}
    new_lv = {lv.level: lv for lv in new.levels}
    for level in sorted(set(old_lv) | set(new_lv), key=lambda lv: list(Level).index(lv)):
        if old_lv.get(level) != new_lv.get(level):
            out.append(f"level {level.value}")
    for name, label in (("impression", "impression"), ("context", "clinical context"), ("imaging", "imaging performed"),
                        ("spinopelvic", "spino-pelvic parameters"), ("key_images", "key images"), ("reader", "reader")):
        if getattr(old, name) != getattr(new, name):
            out.append(label)
    return tuple(out)


def amendment(reader: str, old: StudyFindings, new: StudyFindings, now: _dt.datetime | None = None) -> Amendment | None:
    changes = describe_changes(old, new)
    if not changes:
        return None
    at = (now or _dt.datetime.now(_dt.UTC)).isoformat(timespec="seconds")
    return Amendment(reader=reader, at=at, changes=changes)
