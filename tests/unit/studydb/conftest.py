"""Fixtures of the study-database tests: a database in tmp_path and synthetic studies."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.studydb.database import StudyDatabase


@pytest.fixture
def db(tmp_path: Path):
    database = StudyDatabase(tmp_path / "data" / "studies.sqlite", busy_timeout_s=0.2)
    yield database
    database.close()
