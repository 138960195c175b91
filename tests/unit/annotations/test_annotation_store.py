"""AnnotationStore: commands, undo/redo of every change, events, selection, previews, documents."""

import json

import pytest

from app.annotations import model as am
from app.annotations.store import (
    AddAnnotation,
    AnnotationDocError,
    AnnotationStore,
    MacroCommand,
    RemoveAnnotation,
    UpdateAnnotation,
)


def L(x=0.0, **kw):
    return am.Length(points_px=((x, 0.0), (x + 10.0, 0.0)), **kw)


class Recorder:
    def __init__(self, store):
        self.log = []
        ev = store.events
        ev.added.connect(lambda a: self.log.append(("added", a.id)))
        ev.changed.connect(lambda new, old: self.log.append(("changed", new.id)))
        ev.removed.connect(lambda a: self.log.append(("removed", a.id)))
        ev.selection_changed.connect(lambda ids: self.log.append(("selection", frozenset(ids))))
        ev.reset.connect(lambda: self.log.append(("reset",)))


def test_add_update_remove_and_undo_redo_each():
    s = AnnotationStore()
    rec = Recorder(s)
    a = L(0)
    s.add(a)
    assert list(s) == [a] and s.can_undo and not s.can_redo
    a2 = a.with_points(((0, 0), (20, 0)))
    s.update(a2)
    assert s[a.id] == a2
    s.remove(a.id)
    assert len(s) == 0
    # undo remove, update, add
    s.undo()
    assert s[a.id] == a2
    s.undo()
    assert s[a.id] == a
    s.undo()
    assert a.id not in s and not s.can_undo and s.can_redo
    # redo all three
    s.redo()
    assert s[a.id] == a
    s.redo()
    assert s[a.id] == a2
    s.redo()
    assert a.id not in s and not s.can_redo
    assert [e[0] for e in rec.log] == ["added", "changed", "removed", "added", "changed", "removed",
                                       "added", "changed", "removed"]
    assert s.undo_text.startswith("delete")


def test_new_command_clears_redo_and_undo_on_empty_is_false():
    s = AnnotationStore()
    assert s.undo() is False and s.redo() is False
    s.add(L(0))
    s.undo()
    assert s.can_redo
    s.add(L(5))
    assert not s.can_redo


def test_update_noop_when_equal_and_errors():
    s = AnnotationStore()
    a = s.add(L(0))
    s.update(a)
    assert len(s.history) == 1
    with pytest.raises(ValueError):
        s.add(a)
    with pytest.raises(KeyError):
        s.remove("nope")
    with pytest.raises(ValueError):
        UpdateAnnotation(a, L(3))


def test_remove_undo_restores_position():
    s = AnnotationStore()
    items = [s.add(L(i)) for i in range(4)]
    s.remove(items[1].id)
    s.undo()
    assert [a.id for a in s] == [a.id for a in items]


def test_macro_and_remove_many_one_undo_step():
    s = AnnotationStore()
    a, b, c = s.add(L(0)), s.add(L(1)), s.add(L(2))
    s.select([a.id, c.id])
    s.remove_many(sorted(s.selection))
    assert [x.id for x in s] == [b.id]
    assert s.selection == frozenset()
    s.undo()
    assert {x.id for x in s} == {a.id, b.id, c.id}
    macro = MacroCommand([AddAnnotation(L(9)), RemoveAnnotation(b)], "mixed")
    s.execute(macro)
    assert b.id not in s and len(s) == 3
    s.undo()
    assert b.id in s and len(s) == 3
    assert s.redo_text == "mixed"


def test_replace_last_add_folds_into_one_step():
    s = AnnotationStore()
    p = s.add(am.ParsMarker(points_px=((1, 1),)))
    done = p.touched(level="L5", side="left", status="intact")
    assert s.replace_last_add(done)
    assert s[p.id] == done and len(s.history) == 1
    s.undo()
    assert p.id not in s
    s.redo()
    assert s[p.id] == done  # redo restores the completed marker
    other = s.add(L(0))
    assert not s.replace_last_add(done.touched(status="complete_fracture"))  # last command is another add
    assert other.id in s


def test_discard_last_add_leaves_no_history():
    s = AnnotationStore()
    p = s.add(am.ParsMarker(points_px=((1, 1),)))
    assert s.discard_last_add(p.id)
    assert p.id not in s and not s.can_undo and not s.can_redo


def test_preview_update_then_commit_is_one_step_from_original():
    s = AnnotationStore()
    rec = Recorder(s)
    a = s.add(L(0))
    for x in (1, 2, 3):
        s.preview_update(a.with_points(((x, 0), (10, 0))))
    assert len(s.history) == 1 and s[a.id].points_px[0] == (3.0, 0.0)
    final = a.with_points(((4, 0), (10, 0)))
    s.update(final)
    assert len(s.history) == 2
    s.undo()
    assert s[a.id] == a
    s.redo()
    assert s[a.id] == final
    assert rec.log.count(("changed", a.id)) == 6  # 3 previews, commit, undo, redo


def test_revert_preview_and_undo_during_preview():
    s = AnnotationStore()
    a = s.add(L(0))
    s.preview_update(a.with_points(((5, 0), (10, 0))))
    s.revert_preview(a.id)
    assert s[a.id] == a
    s.preview_update(a.with_points(((5, 0), (10, 0))))
    s.undo()  # reverts the preview, then undoes the add
    assert a.id not in s


def test_selection_events_and_not_undoable():
    s = AnnotationStore()
    rec = Recorder(s)
    a, b = s.add(L(0)), s.add(L(1))
    s.select([a.id])
    s.select([a.id])  # same: no event
    s.toggle_selection(b.id)
    s.select(["unknown"], add=True)  # unknown ids ignored
    assert s.selection == {a.id, b.id}
    s.clear_selection()
    sel = [e for e in rec.log if e[0] == "selection"]
    assert sel == [("selection", {a.id}), ("selection", {a.id, b.id}), ("selection", frozenset())]
    assert len(s.history) == 2


def test_events_can_be_blocked_and_inserted_alias():
    s = AnnotationStore()
    got = []
    s.events.inserted.connect(got.append)
    with s.events.blocked():
        s.add(L(0))
    assert got == []
    s.add(L(1))
    assert len(got) == 1


def test_on_image_and_of_kind():
    s = AnnotationStore()
    a = s.add(L(0, series_instance_uid="s", sop_instance_uid="i1"))
    b = s.add(L(0, series_instance_uid="s", sop_instance_uid="i1", frame=2))
    p = s.add(am.ParsMarker(points_px=((1, 1),), series_instance_uid="s", sop_instance_uid="i2"))
    assert s.on_image("s", "i1") == [a]
    assert s.on_image("s", "i1", 2) == [b]
    assert s.of_kind(am.ParsMarker) == [p]


def test_doc_round_trip_via_json():
    s = AnnotationStore()
    s.add(L(0, label="x"))
    s.add(am.MeyerdingSlip(points_px=((100, 200), (20, 200), (85, 180)), roles=(am.S1_PS, am.S1_AS, am.L5_PI),
                           pixel_spacing_mm=(0.1, 0.1), calibration="PixelSpacing"))
    s.add(am.EllipseROI(points_px=((0, 0), (4, 4)), role="reference", stats=(1.0, 0.5, 13, None)))
    doc = json.loads(json.dumps(s.to_doc()))
    s2 = AnnotationStore.from_doc(doc)
    assert list(s2) == list(s)
    assert not s2.can_undo and s2.load_problems == []
    s3 = AnnotationStore()
    s3.add(L(50))
    rec = Recorder(s3)
    assert s3.load_doc(doc) == []
    assert list(s3) == list(s) and not s3.can_undo
    assert ("reset",) in rec.log


def test_doc_bad_entries_skipped_and_bad_doc_rejected():
    good = L(0)
    doc = {"format": "isthmus-annotations", "version": 1,
           "annotations": [good.to_dict(), {"kind": "laser"}, good.to_dict(), {"kind": "length", "points_px": "x"}]}
    s = AnnotationStore.from_doc(doc)
    assert list(s) == [good]
    assert len(s.load_problems) == 3
    assert any("duplicate id" in p for p in s.load_problems)
    with pytest.raises(AnnotationDocError):
        AnnotationStore.from_doc({"format": "other"})
    with pytest.raises(AnnotationDocError, match="version"):
        AnnotationStore.from_doc({"format": "isthmus-annotations", "version": 99})
    with pytest.raises(AnnotationDocError):
        AnnotationStore.from_doc([1, 2])
