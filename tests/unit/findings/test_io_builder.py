"""The findings reader's typed builder (app.findings.io._build): a fixed-length tuple field
takes exactly its number of values, and a wrong count is a clear error, not a silent cut or pad."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.findings.io import _build


@dataclass(frozen=True)
class _Corner:
    name: str
    point_lps: tuple[float, float, float]


def test_a_fixed_length_tuple_is_built_from_exactly_that_many_values():
    corner = _build(_Corner, {"name": "L5 postero-inferior", "point_lps": [1, 2.5, -3]})
    assert corner == _Corner("L5 postero-inferior", (1.0, 2.5, -3.0))
    assert all(isinstance(v, float) for v in corner.point_lps)


@pytest.mark.parametrize("values", [[1.0, 2.0], [1.0, 2.0, 3.0, 4.0], []])
def test_a_fixed_length_tuple_with_the_wrong_count_is_refused(values):
    with pytest.raises(ValueError, match=f"expected 3 values, got {len(values)}"):
        _build(_Corner, {"name": "x", "point_lps": values})
