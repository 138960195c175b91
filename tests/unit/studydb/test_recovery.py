"""A corrupt, truncated or newer-schema database file is moved aside and rebuilt from the import
roots and the managed storage; the user gets one message; nothing raises. A file locked by
another program is sound and busy: a clear StudyDbBusy, and the file is left alone."""

from __future__ import annotations

import sqlite3

import pytest

from app.studydb.database import StudyDatabase
from app.studydb.rows import StudyDbBusy
from app.studydb.schema import SCHEMA_VERSION

from .studydb_factory import write_study


@pytest.fixture
def filled(tmp_path):
    """A closed database holding one linked and one copied study; returns (path, uids)."""
    path = tmp_path / "data" / "studies.sqlite"
    linked, _ = write_study(tmp_path / "linked", n=2, PatientName="Link^Lou")
    copied, _ = write_study(tmp_path / "copied", n=3, PatientName="Copy^Cat", modality="MR")
    with StudyDatabase(path) as db:
        db.import_paths([tmp_path / "linked"])
        db.import_paths([tmp_path / "copied"], mode="copy", source="pacs:PACS1")
    (tmp_path / "copied").rename(tmp_path / "copied-gone")  # only the managed copy remains
    return path, {linked, copied}


def _assert_rebuilt(path, uids, reason):
    db = StudyDatabase(path, busy_timeout_s=0.2)
    try:
        rows = {r.study_uid: r for r in db.search()}
        assert set(rows) == uids
        assert {r.source for r in rows.values()} == {"folder", "pacs:PACS1"}
        assert sorted(r.n_instances for r in rows.values()) == [2, 3]
        assert db.recovery_message is not None and reason in db.recovery_message
        aside = [p for p in path.parent.glob("studies.sqlite.unreadable-*") if not p.name.endswith(("-wal", "-shm"))]
        assert aside and aside[0].name in db.recovery_message
        assert db.schema_version == SCHEMA_VERSION
    finally:
        db.close()
    again = StudyDatabase(path)
    assert again.recovery_message is None  # told once
    again.close()


def test_garbage_file(filled):
    path, uids = filled
    path.write_bytes(b"this is not a database at all" * 100)
    _assert_rebuilt(path, uids, "not a readable database")


@pytest.mark.parametrize("size", [0, 50, 4096 + 10])
def test_truncated_file(filled, size):
    path, uids = filled
    for extra in ("-wal", "-shm"):
        path.with_name(path.name + extra).unlink(missing_ok=True)
    data = path.read_bytes()
    assert len(data) > size
    path.write_bytes(data[:size])
    _assert_rebuilt(path, uids, "")


def test_damaged_pages(filled):
    path, uids = filled
    data = bytearray(path.read_bytes())
    data[4096:] = b"\xff" * (len(data) - 4096)  # page 1 (schema) intact, the table pages overwritten
    path.write_bytes(bytes(data))
    _assert_rebuilt(path, uids, "damaged")


def test_newer_schema(filled):
    path, uids = filled
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    _assert_rebuilt(path, uids, f"newer Isthmus (schema version {SCHEMA_VERSION + 1}")
    aside = next(p for p in path.parent.glob("studies.sqlite.unreadable-*") if not p.name.endswith(("-wal", "-shm")))
    conn = sqlite3.connect(aside)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1  # left untouched
    conn.close()


def test_write_lock_held_by_another_program_is_busy_not_damage(filled):
    path, uids = filled
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StudyDbBusy, match=r"busy: another program .* more than 0\.2 s\. Nothing was changed"):
            StudyDatabase(path, busy_timeout_s=0.2)
    finally:
        other.close()
    assert not list(path.parent.glob("studies.sqlite.unreadable-*"))  # never moved from under the other's writes
    with StudyDatabase(path, busy_timeout_s=0.2) as db:  # once released: all there, no rebuild
        assert {r.study_uid for r in db.search()} == uids and db.recovery_message is None


def test_a_lock_taken_while_in_use_is_busy_and_the_work_is_kept(filled, tmp_path):
    path, uids = filled
    db = StudyDatabase(path, busy_timeout_s=0.2)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        assert {r.study_uid for r in db.search()} == uids  # write-ahead log: reading goes on
        with pytest.raises(StudyDbBusy):
            db.import_paths([tmp_path / "linked"])
    finally:
        other.close()
    assert not list(path.parent.glob("studies.sqlite.unreadable-*"))
    assert {r.study_uid for r in db.search()} == uids and db.recovery_message is None
    db.close()


def test_database_deleted_is_rebuilt_from_the_sidecar(filled):
    path, uids = filled
    path.unlink()
    for extra in ("-wal", "-shm"):
        path.with_name(path.name + extra).unlink(missing_ok=True)
    db = StudyDatabase(path)
    assert {r.study_uid for r in db.search()} == uids and "was missing" in (db.recovery_message or "")
    db.close()


def test_deferred_rebuild_leaves_the_work_to_the_caller(filled):
    path, uids = filled
    path.write_bytes(b"garbage" * 1000)
    db = StudyDatabase(path, rebuild_now=False)
    assert db.needs_rebuild and db.search() == []
    db.rebuild()
    assert not db.needs_rebuild and {r.study_uid for r in db.search()} == uids
    db.close()


def test_damage_found_during_use_is_recovered(filled):
    path, uids = filled
    db = StudyDatabase(path)
    db._conn.close()
    path.write_bytes(b"garbage" * 1000)
    for extra in ("-wal", "-shm"):
        path.with_name(path.name + extra).unlink(missing_ok=True)
    from app.studydb.health import connect

    db._conn = connect(path, 0.2)  # as if the file were damaged under a running app
    assert {r.study_uid for r in db.search()} == uids
    assert "damaged" in (db.recovery_message or "")
    db.close()


def test_damaged_instance_pages_are_found_on_use_and_recovered(filled):
    path, uids = filled
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'instance'").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    data[(root - 1) * page_size:root * page_size] = b"\xa5" * page_size
    path.write_bytes(bytes(data))
    db = StudyDatabase(path)
    assert db.recovery_message is None  # the study list's tables are intact: opened at once
    files = {uid: db.study_files(uid) for uid in uids}  # reading the instances finds the damage
    assert all(files.values()) and all(p.is_file() for fs in files.values() for p in fs)
    assert "damaged" in (db.recovery_message or "") and "moved aside" in db.recovery_message
    db.close()
