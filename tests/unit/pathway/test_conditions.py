"""Condition parsing (no eval) and three-valued (Kleene) logic."""

from __future__ import annotations

import itertools
import re

import pytest

from app.pathway import conditions as cond

T, F, U = True, False, None


def test_parse_forms():
    assert cond.parse("symptomatic") == cond.Pred("symptomatic")
    node = cond.parse({"pred": "age_at_most", "years": "$repair_age_max_years"})
    assert node == cond.Pred("age_at_most", (("years", "$repair_age_max_years"),))
    node = cond.parse({"all": ["symptomatic", {"not": "any_lesion"}, {"any": ["smoking", {"checklist": "surgery"}]}]})
    assert isinstance(node, cond.All) and isinstance(node.items[1], cond.Not)
    assert cond.setting_refs(cond.parse([{"pred": "age_at_most", "years": "$a"}, {"pred": "age_at_most", "years": 3}])) == {"a"}
    assert cond.checklist_refs(node) == {"surgery"}


@pytest.mark.parametrize("raw, message", [
    ("__import__('os')", "unknown predicate"),
    ({"pred": "age_at_most"}, "needs parameter(s) years"),
    ({"pred": "symptomatic", "x": 1}, "takes no parameter(s) x"),
    ({"all": []}, "non-empty list"),
    ({"all": ["symptomatic"], "any": ["smoking"]}, "cannot be combined"),
    ({"when": "x"}, "unknown condition form"),
    (3, "must be a predicate name"),
])
def test_parse_errors(raw, message):
    with pytest.raises(cond.ConditionError, match=re.escape(message)):
        cond.parse(raw)


def _ref_and(a, b):
    if a is F or b is F:
        return F
    if a is U or b is U:
        return U
    return T


def _ref_or(a, b):
    if a is T or b is T:
        return T
    if a is U or b is U:
        return U
    return F


@pytest.mark.parametrize("a, b", list(itertools.product([T, F, U], repeat=2)))
def test_kleene_tables(a, b):
    assert cond.kleene_all([a, b]) is _ref_and(a, b)
    assert cond.kleene_any([a, b]) is _ref_or(a, b)
    values = {"p": a, "q": b}
    leaf = lambda p: values[p.name]  # noqa: E731
    node = cond.Not(cond.All((cond.Pred("p"), cond.Pred("q"))))
    expect = _ref_and(a, b)
    assert cond.evaluate(node, leaf) is (None if expect is None else not expect)


def test_every_leaf_is_evaluated():
    seen = []

    def leaf(p):
        seen.append(p.name)
        return False

    cond.evaluate(cond.All((cond.Pred("a"), cond.Pred("b"), cond.AnyOf((cond.Pred("c"),)))), leaf)
    assert seen == ["a", "b", "c"]


def test_checklist_without_and_expand():
    node = cond.parse({"checklist": "repair", "without": ["age"]})
    assert node == cond.ChecklistRef("repair", ("age",))
    lists = {"repair": (("age", cond.Pred("p")), ("slip", cond.Pred("q")))}
    assert cond.expand(node, lists) == cond.All((cond.Pred("q"),))
    assert cond.expand(cond.ChecklistRef("repair"), lists) == cond.All((cond.Pred("p"), cond.Pred("q")))
    with pytest.raises(cond.ConditionError, match="without"):
        cond.parse({"checklist": "repair", "without": "age"})


def _key(p):
    return p.name


def _values(**kw):
    return lambda p: kw[p.name]


def test_supervaluation_gives_what_holds_in_every_completion():
    p, q = cond.Pred("p"), cond.Pred("q")
    unknown = _values(p=None, q=None)
    # p or not p: Kleene says unknown, every completion says True
    tautology = cond.AnyOf((p, cond.Not(p)))
    assert cond.evaluate(tautology, unknown) is None
    assert cond.supervaluate(tautology, unknown, _key) is True
    # (q and p) or (q and not p) == q: unknown while q is unknown, q's value once q is known
    node = cond.AnyOf((cond.All((q, p)), cond.All((q, cond.Not(p)))))
    assert cond.supervaluate(node, unknown, _key) is None
    assert cond.supervaluate(node, _values(p=None, q=True), _key) is True
    assert cond.supervaluate(node, _values(p=None, q=False), _key) is False
    # a known Kleene value is returned unchanged
    assert cond.supervaluate(cond.All((p, q)), _values(p=False, q=None), _key) is False


def test_relevant_unknowns_are_those_that_can_change_the_value():
    p, q, r, t = (cond.Pred(x) for x in "pqrt")
    vals = _values(p=None, q=None, r=None, t=True)
    assert cond.relevant_unknowns(cond.AnyOf((cond.All((q, p)), r)), vals, _key) == {"p", "q", "r"}
    # p cannot matter: any(p, t) is true whatever p is
    assert cond.relevant_unknowns(cond.All((q, cond.AnyOf((p, t)))), vals, _key) == {"q"}
    # above the exact limit the cheaper test still drops a leaf that provably cannot matter
    many = [cond.Pred(f"u{i}") for i in range(cond.EXACT_RELEVANCE_LEAVES + 1)]
    lookup = {f"u{i}": None for i in range(len(many))} | {"p": None, "t": True}
    node = cond.All((*many, cond.AnyOf((p, t))))
    assert cond.relevant_unknowns(node, lambda x: lookup[x.name], _key) == {u.name for u in many}
