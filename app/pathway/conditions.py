"""Rule conditions: a tiny tree of predicate calls joined by all / any / not, in Kleene logic.

TOML forms (validated by the loader, never eval'd):
    "symptomatic"                                   predicate without parameters
    { pred = "age_at_most", years = "$repair_age_max_years" }   parameters; "$name" = a setting
    { all = [ ... ] }   { any = [ ... ] }   { not = ... }
    { checklist = "surgery" }                       all required criteria of a checklist

Three-valued logic: a predicate may be unknown (None). all = False if any False, else None if any
None, else True; any = True if any True, else None if any None, else False; not None = None.
Every leaf is evaluated (no short-circuit) so the trace shows all predicates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

from app.pathway.predicates import REGISTRY


class ConditionError(ValueError):
    """A malformed condition; the loader adds the file and rule."""


@dataclass(frozen=True)
class Pred:
    name: str
    params: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class All:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class Not:
    item: "Node"


@dataclass(frozen=True)
class ChecklistRef:
    checklist_id: str


Node = Union[Pred, All, AnyOf, Not, ChecklistRef]


def parse(raw: Any) -> Node:
    if isinstance(raw, str):
        return _pred(raw, {})
    if isinstance(raw, list):  # a bare list means "all of"
        return All(tuple(parse(r) for r in raw))
    if not isinstance(raw, dict):
        raise ConditionError(f"a condition must be a predicate name, a list or a table, got {raw!r}")
    keys = set(raw)
    for combinator, cls in (("all", All), ("any", AnyOf)):
        if combinator in keys:
            if keys != {combinator}:
                raise ConditionError(f"'{combinator}' cannot be combined with {sorted(keys - {combinator})}")
            items = raw[combinator]
            if not isinstance(items, list) or not items:
                raise ConditionError(f"'{combinator}' needs a non-empty list")
            return cls(tuple(parse(r) for r in items))
    if "not" in keys:
        if keys != {"not"}:
            raise ConditionError(f"'not' cannot be combined with {sorted(keys - {'not'})}")
        return Not(parse(raw["not"]))
    if "checklist" in keys:
        if keys != {"checklist"}:
            raise ConditionError("'checklist' takes no other keys")
        return ChecklistRef(str(raw["checklist"]))
    if "pred" in keys:
        params = {k: v for k, v in raw.items() if k != "pred"}
        return _pred(str(raw["pred"]), params)
    raise ConditionError(f"unknown condition form with keys {sorted(keys)} (use pred/all/any/not/checklist)")


def _pred(name: str, params: dict) -> Pred:
    spec = REGISTRY.get(name)
    if spec is None:
        raise ConditionError(f"unknown predicate '{name}'")
    missing = set(spec.params) - set(params)
    extra = set(params) - set(spec.params)
    if missing:
        raise ConditionError(f"predicate '{name}' needs parameter(s) {', '.join(sorted(missing))}")
    if extra:
        raise ConditionError(f"predicate '{name}' takes no parameter(s) {', '.join(sorted(extra))}")
    return Pred(name, tuple(sorted(params.items())))


def setting_refs(node: Node) -> set[str]:
    if isinstance(node, Pred):
        return {v[1:] for _, v in node.params if isinstance(v, str) and v.startswith("$")}
    if isinstance(node, (All, AnyOf)):
        out: set[str] = set()
        for n in node.items:
            out |= setting_refs(n)
        return out
    if isinstance(node, Not):
        return setting_refs(node.item)
    return set()


def checklist_refs(node: Node) -> set[str]:
    if isinstance(node, ChecklistRef):
        return {node.checklist_id}
    if isinstance(node, (All, AnyOf)):
        out: set[str] = set()
        for n in node.items:
            out |= checklist_refs(n)
        return out
    if isinstance(node, Not):
        return checklist_refs(node.item)
    return set()


def kleene_all(values) -> Optional[bool]:
    unknown = False
    result = True
    for v in values:
        if v is False:
            result = False
        elif v is None:
            unknown = True
    if result is False:
        return False
    return None if unknown else True


def kleene_any(values) -> Optional[bool]:
    unknown = False
    result = False
    for v in values:
        if v is True:
            result = True
        elif v is None:
            unknown = True
    if result:
        return True
    return None if unknown else False


def evaluate(node: Node, leaf: Callable[[Pred], Optional[bool]],
             checklist: Callable[[str], Optional[bool]]) -> Optional[bool]:
    if isinstance(node, Pred):
        return leaf(node)
    if isinstance(node, All):
        return kleene_all([evaluate(n, leaf, checklist) for n in node.items])
    if isinstance(node, AnyOf):
        return kleene_any([evaluate(n, leaf, checklist) for n in node.items])
    if isinstance(node, Not):
        v = evaluate(node.item, leaf, checklist)
        return None if v is None else not v
    return checklist(node.checklist_id)
