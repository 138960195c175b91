"""Trainee profiles and every attempt, in a local SQLite database (stdlib sqlite3).

``<user data dir>/teaching/history.sqlite3`` by default. WAL journal with ``synchronous=FULL``:
every call commits, so an attempt started (and each draft of its read saved) survives a crash
or a kill; after a restart ``open_attempts`` lists it and ``draft_of`` gives the read back.

Schema versions (``PRAGMA user_version``), applied in order by ``_MIGRATIONS``:
1. trainees, attempts, item results;
2. ``attempts.exam_set`` (the exam a timed attempt belongs to; NULL for practice);
3. ``exams`` (one row per exam set: its cases in order, time limit, start and end), so an exam
   interrupted by a crash resumes at the same case.
A database written by a newer Isthmus is refused with a ``HistoryError``. Qt-free.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.teaching.scoring import SKILLS, ScoreResult

PathLike = str | os.PathLike


class HistoryError(Exception):
    def __init__(self, path: PathLike, problem: str):
        self.path, self.problem = str(path), problem
        super().__init__(f"{path}: {problem}")


def default_history_path() -> Path:
    from app.core.paths import user_data_dir

    return user_data_dir() / "teaching" / "history.sqlite3"


def _v1(db: sqlite3.Connection) -> None:
    # statement by statement: executescript would commit the caller's transaction
    _run_script(db, """
        CREATE TABLE trainees (
            id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_unix REAL NOT NULL);
        CREATE TABLE attempts (
            id INTEGER PRIMARY KEY, trainee_id INTEGER NOT NULL REFERENCES trainees(id),
            case_id TEXT NOT NULL, started_unix REAL NOT NULL, finished_unix REAL,
            state TEXT NOT NULL CHECK (state IN ('in_progress', 'submitted', 'abandoned')),
            draft_json TEXT, read_json TEXT, score_pct REAL, result_json TEXT);
        CREATE TABLE item_results (
            attempt_id INTEGER NOT NULL REFERENCES attempts(id), skill TEXT NOT NULL,
            item_key TEXT NOT NULL, outcome TEXT NOT NULL, credit REAL NOT NULL, penalty REAL NOT NULL);
        CREATE INDEX attempts_by_trainee ON attempts(trainee_id, started_unix);
        CREATE INDEX items_by_attempt ON item_results(attempt_id);
    """)


def _run_script(db: sqlite3.Connection, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _v2(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE attempts ADD COLUMN exam_set TEXT")


def _v3(db: sqlite3.Connection) -> None:
    _run_script(db, """
        CREATE TABLE exams (
            exam_id TEXT PRIMARY KEY, trainee_id INTEGER NOT NULL REFERENCES trainees(id),
            case_ids_json TEXT NOT NULL, time_limit_s REAL NOT NULL, started_unix REAL NOT NULL,
            finished_unix REAL)
    """)


_MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1, _v2, _v3)
SCHEMA_VERSION = len(_MIGRATIONS)


@dataclass(frozen=True)
class Attempt:
    id: int
    trainee: str
    case_id: str
    started_unix: float
    finished_unix: float | None
    state: str
    score_pct: float | None
    exam_set: str | None

    @property
    def duration_s(self) -> float | None:
        return None if self.finished_unix is None else self.finished_unix - self.started_unix


class History:
    """One open database. Use as a context manager or call ``close``."""

    def __init__(self, path: PathLike | None = None, clock: Callable[[], float] = time.time):
        self.path = Path(path) if path is not None else default_history_path()
        self._clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)  # autocommit; explicit transactions
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise HistoryError(self.path, f"not a usable teaching history database ({exc})") from None

    # ------------------------------------------------------------------ schema

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            self._db.close()
            raise HistoryError(self.path, f"written by a newer Isthmus (history schema version {version}; this "
                                          f"version reads up to {SCHEMA_VERSION}). Update Isthmus to open it.")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self._tx():
                _MIGRATIONS[target - 1](self._db)
                self._db.execute(f"PRAGMA user_version = {target}")

    @property
    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    def _tx(self):
        db = self._db

        class _T:
            def __enter__(self_inner):
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self_inner, exc_type, exc, tb):
                db.execute("COMMIT" if exc_type is None else "ROLLBACK")
                return False
        return _T()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ trainees

    def add_trainee(self, name: str) -> int:
        name = name.strip()
        if not name:
            raise ValueError("a trainee needs a name")
        row = self._db.execute("SELECT id FROM trainees WHERE name = ?", (name,)).fetchone()
        if row:
            return row[0]
        with self._tx():
            cur = self._db.execute("INSERT INTO trainees (name, created_unix) VALUES (?, ?)", (name, self._clock()))
        return int(cur.lastrowid)

    def trainees(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT name FROM trainees ORDER BY name")]

    # ------------------------------------------------------------------ attempts

    def start_attempt(self, trainee: str, case_id: str, exam_set: str | None = None) -> int:
        tid = self.add_trainee(trainee)
        with self._tx():
            cur = self._db.execute(
                "INSERT INTO attempts (trainee_id, case_id, started_unix, state, exam_set) VALUES (?, ?, ?, 'in_progress', ?)",
                (tid, case_id, self._clock(), exam_set))
        return int(cur.lastrowid)

    def save_draft(self, attempt_id: int, read_doc: dict) -> None:
        """Keep the read in progress (a findings document); committed before returning."""
        with self._tx():
            n = self._db.execute("UPDATE attempts SET draft_json = ? WHERE id = ? AND state = 'in_progress'",
                                 (json.dumps(read_doc), attempt_id)).rowcount
        if n != 1:
            raise ValueError(f"attempt {attempt_id} is not in progress")

    def draft_of(self, attempt_id: int) -> dict | None:
        row = self._db.execute("SELECT draft_json FROM attempts WHERE id = ?", (attempt_id,)).fetchone()
        return None if row is None or row[0] is None else json.loads(row[0])

    def submit(self, attempt_id: int, read_doc: dict, result: ScoreResult) -> None:
        """Record the submitted read, its score and every item, in one transaction."""
        with self._tx():
            n = self._db.execute(
                "UPDATE attempts SET state = 'submitted', finished_unix = ?, read_json = ?, draft_json = NULL, "
                "score_pct = ?, result_json = ? WHERE id = ? AND state = 'in_progress'",
                (self._clock(), json.dumps(read_doc), result.score_pct, json.dumps(result.to_dict()), attempt_id)).rowcount
            if n != 1:
                raise ValueError(f"attempt {attempt_id} is not in progress")
            self._db.executemany(
                "INSERT INTO item_results (attempt_id, skill, item_key, outcome, credit, penalty) VALUES (?, ?, ?, ?, ?, ?)",
                [(attempt_id, i.skill, i.key, i.outcome, i.credit, i.penalty) for i in result.items])

    def abandon(self, attempt_id: int) -> None:
        with self._tx():
            self._db.execute("UPDATE attempts SET state = 'abandoned', finished_unix = ? WHERE id = ? AND state = 'in_progress'",
                             (self._clock(), attempt_id))

    _SELECT = ("SELECT a.id, t.name, a.case_id, a.started_unix, a.finished_unix, a.state, a.score_pct, a.exam_set "
               "FROM attempts a JOIN trainees t ON t.id = a.trainee_id ")

    def attempts(self, trainee: str | None = None) -> list[Attempt]:
        if trainee is None:
            rows = self._db.execute(self._SELECT + "ORDER BY a.started_unix, a.id")
        else:
            rows = self._db.execute(self._SELECT + "WHERE t.name = ? ORDER BY a.started_unix, a.id", (trainee,))
        return [Attempt(*r) for r in rows]

    def open_attempts(self, trainee: str | None = None) -> list[Attempt]:
        """Attempts in progress (e.g. interrupted by a crash): resume or abandon them."""
        return [a for a in self.attempts(trainee) if a.state == "in_progress"]

    def attempted_case_ids(self, trainee: str) -> set[str]:
        return {a.case_id for a in self.attempts(trainee) if a.state == "submitted"}

    def read_of(self, attempt_id: int) -> dict | None:
        """The submitted read (a findings document) of an attempt; None before submitting."""
        row = self._db.execute("SELECT read_json FROM attempts WHERE id = ?", (attempt_id,)).fetchone()
        return None if row is None or row[0] is None else json.loads(row[0])

    # ------------------------------------------------------------------ exam sets

    def record_exam(self, exam_id: str, trainee: str, case_ids: tuple[str, ...], time_limit_s: float,
                    started_unix: float) -> None:
        tid = self.add_trainee(trainee)
        with self._tx():
            self._db.execute("INSERT INTO exams (exam_id, trainee_id, case_ids_json, time_limit_s, started_unix) "
                             "VALUES (?, ?, ?, ?, ?)", (exam_id, tid, json.dumps(list(case_ids)), time_limit_s,
                                                        started_unix))

    def finish_exam(self, exam_id: str) -> None:
        with self._tx():
            self._db.execute("UPDATE exams SET finished_unix = ? WHERE exam_id = ? AND finished_unix IS NULL",
                             (self._clock(), exam_id))

    def exams(self, trainee: str) -> list[tuple[str, tuple[str, ...], float, float, float | None]]:
        """(exam id, case ids, time limit s, started unix, finished unix or None) in start order."""
        rows = self._db.execute(
            "SELECT e.exam_id, e.case_ids_json, e.time_limit_s, e.started_unix, e.finished_unix FROM exams e "
            "JOIN trainees t ON t.id = e.trainee_id WHERE t.name = ? ORDER BY e.started_unix", (trainee,))
        return [(r[0], tuple(json.loads(r[1])), r[2], r[3], r[4]) for r in rows]

    # ------------------------------------------------------------------ progress

    def skill_progress(self, trainee: str) -> list[tuple[float, str, float]]:
        """(finished_unix, skill, accuracy %) per submitted attempt and skill, in time order."""
        rows = self._db.execute(
            "SELECT a.finished_unix, i.skill, 100.0 * AVG(i.credit) FROM item_results i "
            "JOIN attempts a ON a.id = i.attempt_id JOIN trainees t ON t.id = a.trainee_id "
            "WHERE t.name = ? AND a.state = 'submitted' GROUP BY a.id, i.skill ORDER BY a.finished_unix, a.id",
            (trainee,))
        return [(r[0], r[1], round(r[2], 1)) for r in rows]

    def score_progress(self, trainee: str) -> list[tuple[float, float]]:
        """(finished_unix, score %) per submitted attempt, in time order."""
        return [(a.finished_unix, a.score_pct) for a in self.attempts(trainee) if a.state == "submitted"]

    def export_csv(self, trainee: str | None = None) -> str:
        """One row per submitted attempt: trainee, case, start/finish (UTC ISO 8601), duration,
        score and the accuracy per skill (empty = the case had no item of that skill)."""
        per_skill: dict[int, dict[str, float]] = {}
        for aid, skill, acc in self._db.execute(
                "SELECT attempt_id, skill, 100.0 * AVG(credit) FROM item_results GROUP BY attempt_id, skill"):
            per_skill.setdefault(aid, {})[skill] = round(acc, 1)
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["trainee", "case_id", "exam_set", "started_utc", "finished_utc", "duration_s", "score_pct",
                    *[f"{s}_pct" for s in SKILLS]])
        for a in self.attempts(trainee):
            if a.state != "submitted":
                continue
            skills = per_skill.get(a.id, {})
            w.writerow([a.trainee, a.case_id, a.exam_set or "", _iso(a.started_unix), _iso(a.finished_unix),
                        f"{a.duration_s:.0f}", f"{a.score_pct:g}", *[_fmt(skills.get(s)) for s in SKILLS]])
        return out.getvalue()


def _iso(unix: float | None) -> str:
    import datetime as dt

    return "" if unix is None else dt.datetime.fromtimestamp(unix, dt.UTC).isoformat(timespec="seconds")


def _fmt(v: float | None) -> str:
    return "" if v is None else f"{v:g}"
