"""Autosave off the GUI thread: annotations handed over as immutable items, serialised by the
write thread, each item's JSON reused until that item changes; a study's session still leaves
a file equal to its state after a burst of edits, on close and when the study is switched."""

from __future__ import annotations

import dataclasses
import json
import math
import threading
import time

from app.annotations.model import FreehandROI
from app.annotations.store import AnnotationStore
from app.findings import autosave as asv, io as fio, model as m
from app.session import StudySession

UID = "1.2.3.4.5"


def _roi(i: int, n_points: int = 40) -> FreehandROI:
    pts = tuple((100 + 20 * math.cos(k / n_points * 6.283) + i % 37, 90 + 20 * math.sin(k / n_points * 6.283))
                for k in range(n_points))
    return FreehandROI(series_instance_uid="1.2.9", sop_instance_uid=f"1.2.9.{i % 30}", points_px=pts,
                       pixel_spacing_mm=(0.5, 0.5), label=f"roi {i}")


@dataclasses.dataclass(frozen=True)
class _Item:
    name: str
    value: float


class _Recorder:
    """item_to_dict that records which items it serialised and on which thread."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, item: _Item) -> dict:
        self.calls.append((item.name, threading.current_thread().name))
        return {"name": item.name, "value": item.value}


def _wait_written(saver: asv.Autosaver, writes: int, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while saver.writes < writes and time.monotonic() < deadline:
        time.sleep(0.01)
    assert saver.writes >= writes, "the autosave thread did not write"


def test_items_are_serialised_by_the_write_thread_not_by_update(tmp_path):
    rec = _Recorder()
    items = tuple(_Item(f"i{k}", k / 3) for k in range(50))
    with asv.Autosaver(UID, data_dir=tmp_path, interval_s=0.0) as saver:
        saver.update(m.StudyFindings(reader="r"), asv.ItemsDocument({"format": "x", "version": 1}, "items", items, rec))
        assert rec.calls == [] or all(t != threading.main_thread().name for _, t in rec.calls)
        _wait_written(saver, 1)
    assert len(rec.calls) == 50 and {t for _, t in rec.calls} == {saver._thread.name}
    doc = json.loads(saver.path.read_text())["annotations"]
    assert doc == {"format": "x", "version": 1, "items": [{"name": f"i{k}", "value": k / 3} for k in range(50)]}


def test_a_write_after_one_edit_serialises_only_the_changed_item(tmp_path):
    rec = _Recorder()
    items = [_Item(f"i{k}", float(k)) for k in range(1000)]
    head = {"format": "x", "version": 1}
    with asv.Autosaver(UID, data_dir=tmp_path, interval_s=30) as saver:
        saver.update(m.StudyFindings(), asv.ItemsDocument(head, "items", tuple(items), rec))
        saver.flush()
        items[500] = _Item("i500", -1.5)
        del items[10]
        items.append(_Item("new", 7.0))
        rec.calls.clear()
        saver.update(m.StudyFindings(), asv.ItemsDocument(head, "items", tuple(items), rec))
        saver.flush()
        assert sorted(name for name, _ in rec.calls) == ["i500", "new"]
    written = json.loads(saver.path.read_text())["annotations"]["items"]
    assert written == [{"name": i.name, "value": i.value} for i in items]


def test_non_json_item_is_reported_by_the_write_and_the_state_kept(tmp_path):
    items = (_Item("ok", 1.0), _Item("bad", math.nan))
    with asv.Autosaver(UID, data_dir=tmp_path, interval_s=30) as saver:
        saver.update(m.StudyFindings(), asv.ItemsDocument({}, "items", items, lambda i: {"v": i.value}))
        saver.flush()
        assert "NaN" in saver.last_error or "Out of range" in saver.last_error
        assert saver.dirty and not saver.path.exists()  # nothing half-written, nothing forgotten


def _session(tmp_path, n_rois: int) -> StudySession:
    store = AnnotationStore([_roi(i) for i in range(n_rois)])
    return StudySession(UID, annotation_store=store, data_dir=tmp_path)


def _saved(tmp_path) -> dict:
    return json.loads(asv.autosave_path(UID, tmp_path).read_text())


def test_autosave_after_a_burst_of_edits_equals_the_state(tmp_path):
    s = _session(tmp_path, 300)
    st = s.annotation_store
    ids = [a.id for a in st.annotations]
    for k in range(40):  # edits, removals, additions and an undo, as fast as the GUI makes them
        a = st[ids[(k * 7) % len(ids)]]
        st.update(dataclasses.replace(a, label=f"edited {k}", points_px=a.points_px[1:] + a.points_px[:1]))
    st.remove(ids[3])
    st.add(_roi(999))
    s.undo()
    s.set_reader("Dr Burst")
    s.autosave.flush()
    saved = _saved(tmp_path)
    assert saved["annotations"] == json.loads(json.dumps(st.to_doc()))
    assert saved["findings"] == json.loads(json.dumps(fio.findings_to_dict(s.findings)))
    s.close()


def test_debounced_autosave_is_flushed_when_the_session_closes(tmp_path):
    s = _session(tmp_path, 20)
    st = s.annotation_store
    a = st.annotations[0]
    for k in range(5):  # the first write goes at once, the rest wait for the debounce interval
        st.update(dataclasses.replace(a, label=f"label {k}"))
    s.close()  # what the workspace does when the study is closed or another study is opened
    labels = [x["label"] for x in _saved(tmp_path)["annotations"]["annotations"] if x["id"] == a.id]
    assert labels == ["label 4"]


def test_switching_study_leaves_the_first_study_autosave_with_its_last_edit(tmp_path):
    first = _session(tmp_path, 10)
    a = first.annotation_store.annotations[2]
    first.annotation_store.update(dataclasses.replace(a, label="before switch"))
    first.annotation_store.update(dataclasses.replace(a, label="last edit"))
    first.close()
    second = StudySession("9.8.7", annotation_store=AnnotationStore([_roi(1)]), data_dir=tmp_path)
    second.set_reader("other")
    second.close()
    restored = StudySession(UID, data_dir=tmp_path)
    assert restored.restore()
    assert restored.annotation_store[a.id].label == "last edit"
    restored.close()


def test_findings_entries_written_after_edits_equal_the_state(tmp_path):
    from findings_factories import rich_findings

    f = rich_findings()
    with asv.Autosaver(UID, data_dir=tmp_path, interval_s=30) as saver:
        saver.update(f, None)
        saver.flush()
        for gap in (1.0, 2.5, 4.0):  # one pars entry replaced each time, the others shared
            f = f.with_pars(dataclasses.replace(f.pars[1], gap_mm=gap))
            saver.update(f, None)
            saver.flush()
        f = dataclasses.replace(f, impression="after the pars edits", pars=f.pars[:2])
        saver.update(f, None)
        saver.flush()
    saved = json.loads(saver.path.read_text())["findings"]
    assert saved == json.loads(json.dumps(fio.findings_to_dict(f)))
    assert asv.load_autosave(UID, tmp_path)[0] == f
