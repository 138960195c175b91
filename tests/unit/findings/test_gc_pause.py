"""The cyclic garbage collector pauses while a big findings text is read and comes back after,
also when reads overlap or fail; a collector the caller had switched off stays off."""

from __future__ import annotations

import gc
import json
import threading

import pytest

from app.core.gc_pause import gc_paused
from app.findings import io as fio


@pytest.fixture(autouse=True)
def _collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    gc.enable() if was else gc.disable()


def test_paused_inside_and_back_after_nested_pauses():
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer read is still going on
    assert gc.isenabled()


def test_back_after_an_error():
    with pytest.raises(ValueError), gc_paused():
        raise ValueError("bad file")
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_caller_stays_off():
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


def test_overlapping_reads_in_two_threads():
    first_in, second_done = threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with gc_paused():
            first_in.set()
            second_done.wait(5)
            seen.append(gc.isenabled())  # the second read ended first: still paused for this one

    def second() -> None:
        first_in.wait(5)
        with gc_paused():
            pass
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == [False] and gc.isenabled()


def test_a_big_text_is_read_with_the_collector_paused(monkeypatch):
    from findings_factories import rich_findings

    doc = fio.findings_to_dict(rich_findings())
    doc["pars"][1]["provenance"][0]["points_px"] = [[i * 0.5, 7.25] for i in range(60_000)]
    text = json.dumps(doc)
    assert len(text) >= fio.PIECES_FROM_CHARS
    states: list[bool] = []
    real = fio.findings_from_dict

    def spy(d, path=None):
        states.append(gc.isenabled())
        return real(d, path)

    monkeypatch.setattr(fio, "findings_from_dict", spy)
    assert fio.loads_findings(text) == real(json.loads(text))
    small = fio.dumps_findings(rich_findings())
    fio.loads_findings(small)
    assert states == [False, True] and gc.isenabled()  # paused for the big text only
    with pytest.raises(fio.FindingsFileError):
        fio.loads_findings(text[:-1])
    assert gc.isenabled()


def test_to_plain_keeps_point_tuples_and_dumps_the_same_json():
    from findings_factories import rich_findings

    f = rich_findings()
    ref = next(r for p in f.pars for r in p.provenance if r.points_px)
    assert fio.to_plain(ref)["points_px"] is ref.points_px  # the model's tuples, not a list per point
    doc = fio.findings_to_dict(f)
    for name in ("pars", "levels"):
        assert json.dumps(fio.to_plain(getattr(f, name))) == json.dumps(doc[name])  # the same text
    refs = [r for p in doc["pars"] for r in p.get("provenance", []) if r.get("points_px")]
    assert refs and all(type(pt) is list for r in refs for pt in r["points_px"])  # the dict stays schema-valid
