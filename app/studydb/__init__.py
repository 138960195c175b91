"""The local study database (Qt-free): a versioned SQLite index of imported studies.

Public names: app.studydb.database (StudyDatabase, open_default) and app.studydb.rows
(StudyRow, ImportReport, StudyDbError)."""
