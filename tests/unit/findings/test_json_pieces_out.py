"""dumps_in_pieces writes exactly json.dumps's text, however the value is nested or sized."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings, strategies as st

from app.findings.json_pieces_out import PIECE_ITEMS, dumps_in_pieces

leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                   st.text(max_size=5))
values = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=PIECE_ITEMS + 40), st.tuples(inner, inner),
    st.dictionaries(st.text(max_size=4), inner, max_size=5)), max_leaves=900)


@settings(max_examples=120, deadline=None)
@given(values)
def test_same_text_as_json_dumps(value):
    assert dumps_in_pieces(value) == json.dumps(value)


def test_a_big_entry_of_outlines_is_written_in_pieces_with_the_same_text():
    entry = {"level": "L5", "provenance": [{"annotation_id": f"a{i}", "points_px": [[i * 0.5, i + 0.25]] * 300}
                                           for i in range(400)]}
    assert dumps_in_pieces(entry) == json.dumps(entry)


def test_nan_follows_allow_nan_like_json():
    big = [math.nan] + [0.0] * (PIECE_ITEMS + 1)
    assert dumps_in_pieces(big) == json.dumps(big)
    with pytest.raises(ValueError):
        dumps_in_pieces(big, allow_nan=False)
