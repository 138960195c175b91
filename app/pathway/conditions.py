"""Rule conditions: a tiny tree of predicate calls joined by all / any / not, in Kleene logic.

TOML forms (validated by the loader, never eval'd):
    "symptomatic"                                   predicate without parameters
    { pred = "age_at_most", years = "$repair_age_max_years" }   parameters; "$name" = a setting
    { all = [ ... ] }   { any = [ ... ] }   { not = ... }
    { checklist = "surgery" }                       all required criteria of a checklist
    { checklist = "repair", without = ["positive-pars-block"] }   ... minus the named criteria

Three-valued logic: a predicate may be unknown (None). all = False if any False, else None if any
None, else True; any = True if any True, else None if any None, else False; not None = None.
Every leaf is evaluated (no short-circuit) so the trace shows all predicates.

Kleene logic alone can withhold a conclusion that holds whatever the unknowns are (``any = [p,
{ not = p }]`` is unknown when p is). ``supervaluate`` closes that gap: when the Kleene value is
unknown it tries every completion of the unknown leaves and returns the common value if all
completions agree (clinical example: fusion follows whatever the radicular facts are).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from app.pathway.predicates import REGISTRY


class ConditionError(ValueError):
    """A malformed condition; the loader adds the file and rule."""


@dataclass(frozen=True)
class Pred:
    name: str
    params: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class All:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class ChecklistRef:
    checklist_id: str
    without: tuple[str, ...] = ()  # criterion ids left out


Node = Pred | All | AnyOf | Not | ChecklistRef

_TRUE = Pred("__true__")  # stands for an empty all-of (a checklist whose criteria were all left out)


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
        if not keys <= {"checklist", "without"}:
            raise ConditionError("'checklist' takes only 'without' (a list of criterion ids)")
        without = raw.get("without", [])
        if not isinstance(without, list) or not all(isinstance(w, str) for w in without):
            raise ConditionError("'without' must be a list of criterion ids")
        return ChecklistRef(str(raw["checklist"]), tuple(without))
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
    return {r.checklist_id for r in checklist_ref_nodes(node)}


def checklist_ref_nodes(node: Node) -> list[ChecklistRef]:
    if isinstance(node, ChecklistRef):
        return [node]
    if isinstance(node, (All, AnyOf)):
        return [r for n in node.items for r in checklist_ref_nodes(n)]
    if isinstance(node, Not):
        return checklist_ref_nodes(node.item)
    return []


def kleene_all(values) -> bool | None:
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


def kleene_any(values) -> bool | None:
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


ChecklistItems = Mapping[str, tuple[tuple[str, Node], ...]]  # checklist id -> (criterion id, condition) required


def expand(node: Node, checklists: ChecklistItems) -> Node:
    """``node`` with every checklist reference replaced by the all-of of its required criteria
    (``checklists``: id -> tuple of (criterion id, condition) for the required criteria)."""
    if isinstance(node, ChecklistRef):
        items = tuple(expand(when, checklists) for cid, when in checklists[node.checklist_id]
                      if cid not in node.without)
        return All(items) if items else All((_TRUE,))
    if isinstance(node, All):
        return All(tuple(expand(n, checklists) for n in node.items))
    if isinstance(node, AnyOf):
        return AnyOf(tuple(expand(n, checklists) for n in node.items))
    if isinstance(node, Not):
        return Not(expand(node.item, checklists))
    return node


def leaves(node: Node) -> list[Pred]:
    """The predicate calls of a (checklist-free) condition, in order, repeats kept."""
    if isinstance(node, Pred):
        return [] if node is _TRUE else [node]
    if isinstance(node, (All, AnyOf)):
        return [p for n in node.items for p in leaves(n)]
    if isinstance(node, Not):
        return leaves(node.item)
    return []


def evaluate(node: Node, leaf: Callable[[Pred], bool | None]) -> bool | None:
    """Kleene value of a checklist-free condition (``expand`` first)."""
    if isinstance(node, Pred):
        return True if node is _TRUE else leaf(node)
    if isinstance(node, All):
        return kleene_all([evaluate(n, leaf) for n in node.items])
    if isinstance(node, AnyOf):
        return kleene_any([evaluate(n, leaf) for n in node.items])
    if isinstance(node, Not):
        v = evaluate(node.item, leaf)
        return None if v is None else not v
    raise ConditionError(f"checklist reference {node!r} must be expanded before evaluation")


MAX_UNKNOWN_LEAVES = 10  # 2**10 completions at most; beyond that the Kleene value stands


def supervaluate(node: Node, leaf: Callable[[Pred], bool | None],
                 key: Callable[[Pred], Hashable]) -> bool | None:
    """The value of ``node`` if it is the same under every completion of its unknown leaves
    (leaves with equal ``key`` take equal values), else None. Equals the Kleene value whenever
    that is known."""
    value = evaluate(node, leaf)
    if value is not None:
        return value
    unknown: dict[Hashable, int] = {}
    for p in leaves(node):
        if leaf(p) is None:
            k = key(p)
            unknown[k] = unknown.get(k, 0) + 1
    # Kleene logic is exact for a formula in which no unknown occurs twice (read-once), so only the
    # unknowns that occur more than once need trying; the others stay unknown in each try.
    keys = [k for k, n in unknown.items() if n > 1]
    if not keys or len(keys) > MAX_UNKNOWN_LEAVES:
        return None
    common: bool | None = None
    for combo in itertools.product((False, True), repeat=len(keys)):
        assigned = dict(zip(keys, combo, strict=True))

        def completed(p: Pred, assigned: dict = assigned) -> bool | None:
            k = key(p)
            return assigned[k] if k in assigned else leaf(p)

        v = evaluate(node, completed)
        if v is None or (common is not None and v != common):
            return None
        common = v
    return common


EXACT_RELEVANCE_LEAVES = 6  # exact search up to 2**6 completions; above, a cheaper sound test


def relevant_unknowns(node: Node, leaf: Callable[[Pred], bool | None],
                      key: Callable[[Pred], Hashable]) -> set[Hashable]:
    """Keys of the unknown leaves whose value can change the value of ``node``. Up to
    EXACT_RELEVANCE_LEAVES unknowns: exactly (for some values of the other unknowns, this one True
    or False gives different results). Above: a leaf is dropped only when a known sibling masks
    it (a false item of an all-of, a true item of an any-of), which never drops a relevant leaf."""
    ls = leaves(node)
    keys_of = {id(p): key(p) for p in ls}
    known = {id(p): leaf(p) for p in ls}
    keys = list(dict.fromkeys(keys_of[id(p)] for p in ls if known[id(p)] is None))

    def value_with(assigned: dict) -> bool | None:
        return evaluate(node, lambda p: assigned.get(keys_of[id(p)], known[id(p)]))

    if len(keys) > EXACT_RELEVANCE_LEAVES:
        return _unmasked_unknowns(node, leaf, key)
    relevant: set[Hashable] = set()
    for combo in itertools.product((False, True), repeat=len(keys)):
        assigned = dict(zip(keys, combo, strict=True))
        base = value_with(assigned)
        for k in keys:
            if k in relevant or assigned[k]:
                continue
            if value_with({**assigned, k: True}) != base:
                relevant.add(k)
    return relevant


def _unmasked_unknowns(node: Node, leaf: Callable[[Pred], bool | None],
                       key: Callable[[Pred], Hashable]) -> set[Hashable]:
    if isinstance(node, Pred):
        return {key(node)} if node is not _TRUE and leaf(node) is None else set()
    if isinstance(node, Not):
        return _unmasked_unknowns(node.item, leaf, key)
    if isinstance(node, ChecklistRef):
        raise ValueError(f"checklist {node.checklist_id!r} not expanded (call expand first)")
    values = [evaluate(n, leaf) for n in node.items]
    if (isinstance(node, All) and False in values) or (isinstance(node, AnyOf) and True in values):
        return set()
    out: set[Hashable] = set()
    for n, v in zip(node.items, values, strict=True):
        if v is None:
            out |= _unmasked_unknowns(n, leaf, key)
    return out
