"""Qt-free values of the findings table: clinical labels of the cells and parsing of what the
reader typed or picked (yes/no/unknown, edema with sites, numbers, enum values). Unknown stays
unknown: "" and None parse to None, never to "no" or 0."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.findings import model as findings_model

UNKNOWN = "?"
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V"}

STATUS_LABELS = {
    findings_model.ParsStatus.INTACT: "intact",
    findings_model.ParsStatus.STRESS_REACTION: "stress reaction",
    findings_model.ParsStatus.INCOMPLETE_FRACTURE: "incomplete fracture",
    findings_model.ParsStatus.COMPLETE_FRACTURE: "complete fracture",
    findings_model.ParsStatus.CHRONIC_NONUNION: "chronic non-union",
}
HOLLENBERG_LABELS = {
    0: "0 normal",
    1: "1 stress reaction",
    2: "2 incomplete + edema",
    3: "3 complete + edema",
    4: "4 complete, no edema",
}


def tri_label(v: bool | None) -> str:
    return UNKNOWN if v is None else ("yes" if v else "no")


TRI_CHOICES = (("? unknown", ""), ("yes", "yes"), ("no", "no"))


def parse_tri(v: Any) -> bool | None:
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("yes", "true", "1", "y", "present"):
        return True
    if s in ("no", "false", "0", "n", "absent"):
        return False
    raise ValueError(f"expected yes/no/unknown, got {v!r}")


def parse_edema(v: Any) -> tuple[bool | None, list]:
    """"", "no", "yes", "yes:pars,pedicle" or just "pars,pedicle" -> (present, sites)."""
    text = "" if v is None else str(v).strip().lower()
    head, _, tail = text.partition(":")
    site_names = {x.value for x in findings_model.EdemaSite}
    if head and all(x.strip() in site_names for x in head.split(",")) and not tail:
        head, tail = "yes", head  # sites alone mean edema is present
    present = parse_tri(head)
    sites = [findings_model.EdemaSite(x.strip()) for x in tail.replace(";", ",").split(",") if x.strip()]
    if sites and present is not True:
        raise ValueError("edema sites need edema marked present")
    return present, sites


def parse_float(v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool):
        raise ValueError("expected a number")
    if isinstance(v, (int, float)):
        return float(v)
    s = str(v).strip().replace(",", ".")
    if s == "":
        return None
    try:
        return float(s)
    except ValueError:
        raise ValueError(f"not a number: {v!r}") from None


def enum_or_none(enum_cls: type) -> Callable[[Any], Any]:
    def conv(v: Any) -> Any:
        if v is None or v == "":
            return None
        return enum_cls(v)

    return conv


def fmt_num(v: float | None, unit: str = "", decimals: int = 1) -> str:
    if v is None:
        return ""
    return f"{v:.{decimals}f}{unit}"
