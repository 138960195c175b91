"""SQL that writes instance records, prunes emptied rows and refreshes the per-study counts.

All functions take an open connection inside the caller's transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from app.studydb.indexer import InstanceRecord

_FILLED = "CASE WHEN excluded.{c} != '' THEN excluded.{c} ELSE study.{c} END"
_STUDY_UPSERT = (
    "INSERT INTO study (study_uid, patient_ref, study_date, study_time, description, accession, description_fold,"
    " accession_fold, source, imported_at) VALUES (?,?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT(study_uid) DO UPDATE SET patient_ref = excluded.patient_ref, "
    + ", ".join(f"{c} = {_FILLED.format(c=c)}" for c in ("study_date", "study_time", "description", "accession",
                                                        "description_fold", "accession_fold"))
)
_REFRESH = """UPDATE study SET
    n_series = (SELECT count(*) FROM series WHERE series.study_uid = study.study_uid),
    n_instances = (SELECT count(DISTINCT i.sop_uid) FROM instance i JOIN series s ON s.id = i.series_ref
                   WHERE s.study_uid = study.study_uid),
    isthmus_sr_count = (SELECT count(DISTINCT i.sop_uid) FROM instance i JOIN series s ON s.id = i.series_ref
                        WHERE s.study_uid = study.study_uid AND i.isthmus_sr = 1),
    modalities = coalesce((SELECT group_concat(m, '\\') FROM (SELECT DISTINCT modality AS m FROM series
                 WHERE series.study_uid = study.study_uid AND modality != '' ORDER BY m)), '')
    WHERE study_uid = ?"""


def fold(text: str) -> str:
    """The searchable form of a header value: case-folded, DICOM name separators as spaces."""
    return " ".join(text.replace("^", " ").replace("=", " ").split()).casefold()


def _first_filled(values: Iterable[str]) -> str:
    return next((v for v in values if v), "")


def write_records(conn: sqlite3.Connection, records: list[InstanceRecord], source: str, now: str,
                  storage_prefix: str) -> set[str]:
    """Upsert ``records`` (patients, studies, series, instances); returns the study UIDs touched.
    A study already in the database keeps its first source; empty header values never overwrite
    recorded ones."""
    by_study: dict[str, list[InstanceRecord]] = {}
    for r in records:
        by_study.setdefault(r.study_uid, []).append(r)
    rows: list[tuple[object, ...]] = []
    for study_uid, recs in by_study.items():
        p = next((r for r in recs if r.is_image), recs[0])
        key = "\x1f".join((p.patient_id, p.patient_name, p.birth_date))
        pid = conn.execute(
            "INSERT INTO patient (patient_key, patient_id, patient_name, birth_date, sex, patient_id_fold,"
            " patient_name_fold) VALUES (?,?,?,?,?,?,?) ON CONFLICT(patient_key) DO UPDATE SET"
            " sex = CASE WHEN excluded.sex != '' THEN excluded.sex ELSE patient.sex END RETURNING id",
            (key, p.patient_id, p.patient_name, p.birth_date, p.sex, fold(p.patient_id), fold(p.patient_name)),
        ).fetchone()[0]
        description = _first_filled(r.study_description for r in recs)
        accession = _first_filled(r.accession for r in recs)
        conn.execute(_STUDY_UPSERT, (study_uid, pid, _first_filled(r.study_date for r in recs),
                                     _first_filled(r.study_time for r in recs), description, accession,
                                     fold(description), fold(accession), source, now))
        series_ids: dict[str, int] = {}
        for r in recs:
            if r.series_uid in series_ids:
                continue
            series_ids[r.series_uid] = conn.execute(
                "INSERT INTO series (study_uid, series_uid, modality, number, description) VALUES (?,?,?,?,?)"
                " ON CONFLICT(study_uid, series_uid) DO UPDATE SET modality = excluded.modality,"
                " number = excluded.number, description = excluded.description RETURNING id",
                (study_uid, r.series_uid, r.modality, r.series_number, r.series_description)).fetchone()[0]
        rows.extend((r.path, series_ids[r.series_uid], r.sop_uid, r.sop_class, r.instance_number, int(r.is_image),
                     int(r.isthmus_sr), int(r.managed or r.path.startswith(storage_prefix))) for r in recs)
    conn.executemany(
        "INSERT INTO instance (path, series_ref, sop_uid, sop_class, instance_number, is_image, isthmus_sr, managed)"
        " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(path) DO UPDATE SET series_ref = excluded.series_ref,"
        " sop_uid = excluded.sop_uid, sop_class = excluded.sop_class, instance_number = excluded.instance_number,"
        " is_image = excluded.is_image, isthmus_sr = excluded.isthmus_sr, managed = excluded.managed", rows)
    return set(by_study)


def prune_and_refresh(conn: sqlite3.Connection, study_uids: Iterable[str]) -> None:
    """Drop series, studies and patients left without instances; recount ``study_uids``."""
    conn.execute("DELETE FROM series WHERE NOT EXISTS (SELECT 1 FROM instance WHERE instance.series_ref = series.id)")
    conn.execute("DELETE FROM study WHERE NOT EXISTS (SELECT 1 FROM series WHERE series.study_uid = study.study_uid)")
    conn.execute("DELETE FROM patient WHERE NOT EXISTS (SELECT 1 FROM study WHERE study.patient_ref = patient.id)")
    conn.executemany(_REFRESH, [(uid,) for uid in study_uids])
