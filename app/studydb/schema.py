"""The study database's tables and their migrations (``PRAGMA user_version`` = schema version).

Each migration is the list of statements that takes the schema from version ``n - 1`` to ``n``;
a database is migrated by running the missing ones in order inside one transaction. A file whose
user_version is above :data:`SCHEMA_VERSION` was written by a newer Isthmus and is never touched.
The ``*_fold`` columns hold case-folded copies (``str.casefold``) of the searchable text, so the
search is case-insensitive for every script, not only ASCII; each has an index."""

from __future__ import annotations

import sqlite3

_V1 = [
    """CREATE TABLE patient (
        id INTEGER PRIMARY KEY,
        patient_key TEXT NOT NULL UNIQUE,
        patient_id TEXT NOT NULL,
        patient_name TEXT NOT NULL,
        birth_date TEXT NOT NULL,
        sex TEXT NOT NULL,
        patient_id_fold TEXT NOT NULL,
        patient_name_fold TEXT NOT NULL)""",
    "CREATE INDEX patient_id_fold_ix ON patient(patient_id_fold)",
    "CREATE INDEX patient_name_fold_ix ON patient(patient_name_fold)",
    """CREATE TABLE study (
        study_uid TEXT PRIMARY KEY,
        patient_ref INTEGER NOT NULL REFERENCES patient(id) ON DELETE CASCADE,
        study_date TEXT NOT NULL,
        study_time TEXT NOT NULL,
        description TEXT NOT NULL,
        accession TEXT NOT NULL,
        description_fold TEXT NOT NULL,
        accession_fold TEXT NOT NULL,
        source TEXT NOT NULL,
        imported_at TEXT NOT NULL,
        modalities TEXT NOT NULL DEFAULT '',
        n_series INTEGER NOT NULL DEFAULT 0,
        n_instances INTEGER NOT NULL DEFAULT 0,
        isthmus_sr_count INTEGER NOT NULL DEFAULT 0)""",
    "CREATE INDEX study_patient_ix ON study(patient_ref)",
    "CREATE INDEX study_date_ix ON study(study_date DESC, imported_at DESC)",
    "CREATE INDEX study_description_fold_ix ON study(description_fold)",
    "CREATE INDEX study_accession_fold_ix ON study(accession_fold)",
    """CREATE TABLE series (
        id INTEGER PRIMARY KEY,
        study_uid TEXT NOT NULL REFERENCES study(study_uid) ON DELETE CASCADE,
        series_uid TEXT NOT NULL,
        modality TEXT NOT NULL,
        number INTEGER,
        description TEXT NOT NULL,
        UNIQUE (study_uid, series_uid))""",
    """CREATE TABLE instance (
        path TEXT PRIMARY KEY,
        series_ref INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
        sop_uid TEXT NOT NULL,
        sop_class TEXT NOT NULL,
        instance_number INTEGER,
        is_image INTEGER NOT NULL,
        isthmus_sr INTEGER NOT NULL DEFAULT 0,
        managed INTEGER NOT NULL DEFAULT 0)""",
    "CREATE INDEX instance_series_ix ON instance(series_ref)",
    "CREATE INDEX instance_sop_ix ON instance(sop_uid)",
]

# MIGRATIONS[n - 1] takes the schema to version n. Append; never edit a released migration.
MIGRATIONS: list[list[str]] = [_V1]
SCHEMA_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Bring ``conn`` (no transaction open) to :data:`SCHEMA_VERSION`; returns the version found.
    Takes the write lock first (``BEGIN IMMEDIATE``), so a database another program holds for
    writing raises ``sqlite3.OperationalError`` here, after the connection's busy timeout."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = user_version(conn)
        for version in range(found + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[version - 1]:
                conn.execute(statement)
        if found < SCHEMA_VERSION:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found
