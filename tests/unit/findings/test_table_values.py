"""Values of the findings table, Qt-free: labels and parsing of what the reader types; unknown
stays unknown (never read as no or zero), anything else is refused with the value named."""

from __future__ import annotations

import pytest

from app.findings import model as m
from app.findings.table_values import (
    STATUS_LABELS,
    enum_or_none,
    fmt_num,
    parse_edema,
    parse_float,
    parse_tri,
    tri_label,
)


@pytest.mark.parametrize(("text", "value"), [("", None), (None, None), ("yes", True), ("Present", True),
                                             (" no ", False), ("0", False), (True, True)])
def test_yes_no_unknown(text, value):
    assert parse_tri(text) is value


def test_unparseable_yes_no_is_refused_naming_the_value():
    with pytest.raises(ValueError, match="'maybe'"):
        parse_tri("maybe")


@pytest.mark.parametrize(("text", "present", "sites"), [
    ("", None, []), ("no", False, []), ("yes", True, []),
    ("yes:pars,pedicle", True, [m.EdemaSite.PARS, m.EdemaSite.PEDICLE]),
    ("pars", True, [m.EdemaSite.PARS]),  # sites alone mean edema is present
])
def test_edema_with_sites(text, present, sites):
    assert parse_edema(text) == (present, sites)


def test_edema_sites_without_edema_are_refused():
    with pytest.raises(ValueError, match="present"):
        parse_edema("no:pars")


@pytest.mark.parametrize(("text", "value"), [("", None), (None, None), ("2,5", 2.5), (" 3 ", 3.0), (4, 4.0)])
def test_numbers_accept_a_decimal_comma_and_keep_empty_unknown(text, value):
    assert parse_float(text) == value


@pytest.mark.parametrize("bad", [True, "two", "1.2.3"])
def test_non_numbers_are_refused(bad):
    with pytest.raises(ValueError):
        parse_float(bad)


def test_labels_and_formatting():
    assert tri_label(None) == "?" and tri_label(True) == "yes" and tri_label(False) == "no"
    assert set(STATUS_LABELS) == set(m.ParsStatus)
    assert fmt_num(None) == "" and fmt_num(2.345) == "2.3" and fmt_num(12.0, " %", 0) == "12 %"
    assert enum_or_none(m.Severity)("") is None and enum_or_none(m.Severity)("moderate") is m.Severity.MODERATE
