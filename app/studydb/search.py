"""The study list query: every word of the search text must occur (case-insensitive) in the
patient name, patient ID, study description or accession number, or equal the study UID.

The searchable columns are stored case-folded and indexed; the per-study counts are stored on the
study row, so a search reads only the patient and study tables, whatever the number of instances."""

from __future__ import annotations

import sqlite3
from datetime import date

from app.studydb.rows import StudyRow
from app.studydb.writer import fold

_COLUMNS = ("st.study_uid, p.patient_name, p.patient_id, p.birth_date, p.sex, st.study_date, st.description,"
            " st.accession, st.modalities, st.n_series, st.n_instances, st.source, st.isthmus_sr_count")
_WORD = ("(p.patient_name_fold LIKE :like{n} ESCAPE '\\' OR p.patient_id_fold LIKE :like{n} ESCAPE '\\'"
         " OR st.description_fold LIKE :like{n} ESCAPE '\\' OR st.accession_fold LIKE :like{n} ESCAPE '\\'"
         " OR st.study_uid = :word{n})")


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_rows(conn: sqlite3.Connection, text: str, modality: str, date_from: date | None, date_to: date | None,
                limit: int, study_uid: str = "") -> list[StudyRow]:
    where: list[str] = []
    params: dict[str, object] = {"limit": max(0, int(limit))}
    for n, word in enumerate(fold(text).split()):
        where.append(_WORD.format(n=n))
        params[f"like{n}"], params[f"word{n}"] = _like(word), word
    if modality.strip():
        where.append("('\\' || st.modalities || '\\') LIKE :modality")
        params["modality"] = f"%\\{modality.strip().upper()}\\%"
    if date_from is not None:
        where.append("st.study_date >= :date_from")
        params["date_from"] = date_from.strftime("%Y%m%d")
    if date_to is not None:
        where.append("st.study_date != '' AND st.study_date <= :date_to")
        params["date_to"] = date_to.strftime("%Y%m%d")
    if study_uid:
        where.append("st.study_uid = :study_uid")
        params["study_uid"] = study_uid
    sql = (f"SELECT {_COLUMNS} FROM study st JOIN patient p ON p.id = st.patient_ref"
           + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY st.study_date DESC, st.imported_at DESC, st.study_uid LIMIT :limit")
    return [StudyRow(study_uid=r[0], patient_name=r[1], patient_id=r[2], birth_date=r[3], sex=r[4], study_date=r[5],
                     description=r[6], accession=r[7], modalities=tuple(m for m in r[8].split("\\") if m),
                     n_series=r[9], n_instances=r[10], source=r[11], isthmus_sr_count=r[12])
            for r in conn.execute(sql, params)]
