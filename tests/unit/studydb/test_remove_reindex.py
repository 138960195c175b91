"""Remove (managed copies only ever deleted) and re-index (vanished files dropped, new ones added)."""

from __future__ import annotations

from app.studydb.sidecar import ImportRoots

from .studydb_factory import write_study


def test_remove_with_delete_files_never_touches_the_originals(db, tmp_path):
    uid, originals = write_study(tmp_path / "a", n=2)
    db.import_paths([tmp_path / "a"])
    db.import_paths([tmp_path / "a"], mode="copy")
    copies = sorted(db.storage_dir.rglob("*.dcm"))
    assert len(copies) == 2
    assert db.remove_study(uid, delete_files=True) == 2
    assert db.search() == []
    assert all(p.is_file() for p in originals)
    assert not any(p.exists() for p in copies) and not list(db.storage_dir.rglob("*.dcm"))


def test_remove_without_delete_files_keeps_copies(db, tmp_path):
    uid, _ = write_study(tmp_path / "a", n=2)
    db.import_paths([tmp_path / "a"], mode="copy")
    assert db.remove_study(uid) == 0
    assert db.search() == [] and len(list(db.storage_dir.rglob("*.dcm"))) == 2


def test_removed_study_stays_removed_on_reindex_until_imported_again(db, tmp_path):
    uid_a, _ = write_study(tmp_path / "root" / "a", n=1)
    uid_b, _ = write_study(tmp_path / "root" / "b", n=1)
    db.import_paths([tmp_path / "root"])
    db.remove_study(uid_a)
    db.reindex()
    assert [r.study_uid for r in db.search()] == [uid_b]
    db.import_paths([tmp_path / "root" / "a"])
    assert {r.study_uid for r in db.search()} == {uid_a, uid_b}


def test_reindex_drops_vanished_files_and_adds_new_ones(db, tmp_path):
    uid, files = write_study(tmp_path / "a", n=3)
    db.import_paths([tmp_path / "a"])
    files[0].unlink()
    uid_new, _ = write_study(tmp_path / "a" / "later", n=2, modality="MR")
    report = db.reindex()
    assert report.removed_instances == 1 and report.instances == 2
    rows = {r.study_uid: r for r in db.search()}
    assert rows[uid].n_instances == 2 and rows[uid_new].modalities == ("MR",)
    for f in files[1:]:
        f.unlink()
    db.reindex()
    assert [r.study_uid for r in db.search()] == [uid_new]  # a study without files is gone


def test_reindex_reports_a_missing_import_folder(db, tmp_path):
    write_study(tmp_path / "a", n=1)
    db.import_paths([tmp_path / "a"])
    (tmp_path / "a").rename(tmp_path / "moved")
    report = db.reindex()
    assert report.missing_roots == [tmp_path / "a"] and db.search() == []
    assert "recorded folder(s) missing" in report.summary()


def test_nested_import_is_covered_by_its_root(db, tmp_path):
    write_study(tmp_path / "root" / "a", n=1)
    db.import_paths([tmp_path / "root"])
    db.import_paths([tmp_path / "root" / "a"])
    assert list(ImportRoots.load(db.roots_path).roots) == [str(tmp_path / "root")]


def test_cancelled_import_writes_nothing_and_leaves_no_copies(db, tmp_path):
    import pytest

    from app.core.progress import Cancelled, CancelToken

    write_study(tmp_path / "a", n=40)
    token = CancelToken()
    scanned: list[bool] = []

    def cancel_during_copy(done: int, total: int) -> None:
        if done == total == 40 and not scanned:
            scanned.append(True)  # the scan is over; the copy phase reports every 32 files
        elif scanned and done >= 32:
            token.cancel()
    with pytest.raises(Cancelled):
        db.import_paths([tmp_path / "a"], mode="copy", progress=cancel_during_copy, cancel=token)
    assert scanned and db.search() == []
    assert db.storage_dir.is_dir() and not list(db.storage_dir.rglob("*.dcm"))  # 32 copies made, then removed
    assert ImportRoots.load(db.roots_path).copied_sources == {}
