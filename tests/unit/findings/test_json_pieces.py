"""A big findings file parsed in pieces gives exactly what one parse gives; whatever does not
fit the cut (tricky strings, wrong shapes, placeholders in the text) falls back to one parse."""

from __future__ import annotations

import json
import random

import pytest

from app.findings import io as fio
from app.findings.json_pieces import loads_in_pieces


def _doc(n_refs: int = 40, n_points: int = 300, seed: int = 5) -> dict:
    rnd = random.Random(seed)
    refs = [{"annotation_id": f"roi-{i}", "kind": "freehand-roi",
             "points_px": [[round(rnd.uniform(0, 512), 3), rnd.randint(0, 511)] for _ in range(n_points)],
             "points_lps": [[rnd.uniform(-200, 200), -1.5e-3, 2e2] for _ in range(n_points // 10)]}
            for i in range(n_refs)]
    return {"format": "isthmus-findings", "schema_version": 4, "impression": 'a "points_px": [[1, 2]] in text',
            "reader": "Dr ,\"points_lps\": [[1,2,3]]", "pars": [{"level": "L5", "side": "left", "provenance": refs}],
            "empty": {"points_px": []}}


@pytest.mark.parametrize("indent", [None, 2])
def test_pieces_equal_one_parse(indent):
    text = json.dumps(_doc(), indent=indent)
    assert loads_in_pieces(text) == json.loads(text)


@pytest.mark.parametrize("text", [
    '{"pars": [{"points_px": 0}]}',  # not an array: nothing cut
    '{"pars": [{"points_px": [[1, 2]], "points_lps": [[1, 2, 3]]}], "broken": }',  # invalid JSON
    '{"x": "\\u0000isthmus-points:0", "a": {"points_px": [[1, 2]]}}',  # a placeholder-like string elsewhere
    '{"a": {"points_px": "\\u0000isthmus-points:0"}, "b": {"points_px": [[1, 2]]}}',  # placeholder used twice
    '{"a": {"points_px": [[1, [2]]]}}',  # nested deeper than points: not cut
])
def test_anything_else_is_none_or_equal_to_one_parse(text):
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    got = loads_in_pieces(text)
    assert got is None or got == whole


def test_a_big_findings_file_reads_the_same_through_the_pieces(tmp_path):
    from findings_factories import rich_findings

    doc = fio.findings_to_dict(rich_findings())
    ref = doc["pars"][1]["provenance"][0]
    ref["points_px"] = [[i * 0.5, 300 - i * 0.25] for i in range(60_000)]  # > 1 MB of text
    text = json.dumps(doc)
    assert len(text) >= fio.PIECES_FROM_CHARS
    path = tmp_path / "big.json"
    path.write_text(text)
    assert fio.load_findings(path) == fio.findings_from_dict(json.loads(text))
    bad = tmp_path / "bad.json"
    bad.write_text(text[:-1])  # truncated: one parse names the line and column
    with pytest.raises(fio.FindingsFileError, match=r"not valid JSON \(line 1, column"):
        fio.load_findings(bad)
