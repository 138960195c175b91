"""Attempt history in SQLite: trainees, attempts, per-item results, progress, CSV, migrations,
and an attempt in progress surviving a SIGKILL."""

from __future__ import annotations

import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from app.findings.io import findings_to_dict
from app.samples.cases import case_by_number
from app.samples.generate import reference_read
from app.teaching.history import SCHEMA_VERSION, History, HistoryError, _v1
from app.teaching.scoring import score_read


class _Clock:
    def __init__(self):
        self.t = 1_700_000_000.0

    def __call__(self):
        self.t += 30.0
        return self.t


def _submit(h, trainee, case_no, trainee_read):
    ref = reference_read(case_by_number(case_no))
    aid = h.start_attempt(trainee, f"case{case_no}")
    result = score_read(trainee_read, ref, with_pathway=False)
    h.submit(aid, findings_to_dict(trainee_read), result)
    return aid, result


def test_attempts_items_progress_and_csv(tmp_path):
    import dataclasses

    with History(tmp_path / "h.sqlite3", clock=_Clock()) as h:
        ref3 = reference_read(case_by_number(3))
        _submit(h, "Ann", 3, dataclasses.replace(ref3, pars=()))  # misses everything
        _, good = _submit(h, "Ann", 3, ref3)
        _submit(h, "Bob", 1, reference_read(case_by_number(1)))
        assert h.trainees() == ["Ann", "Bob"]
        atts = h.attempts("Ann")
        assert [a.state for a in atts] == ["submitted", "submitted"]
        assert atts[0].duration_s == 30.0 and atts[1].score_pct == 100.0
        assert atts[0].score_pct < 100.0
        assert h.attempted_case_ids("Ann") == {"case3"}
        pars = [acc for _, skill, acc in h.skill_progress("Ann") if skill == "pars"]
        assert pars == [0.0, 100.0]  # improved
        rows = list(csv.DictReader(io.StringIO(h.export_csv())))
        assert [r["trainee"] for r in rows] == ["Ann", "Ann", "Bob"]
        assert rows[1]["score_pct"] == "100" and rows[0]["pars_pct"] == "0" and rows[1]["duration_s"] == "30"
        assert rows[2]["pars_pct"] == ""  # a normal case has no pars lesion item
        with pytest.raises(ValueError, match="not in progress"):
            h.submit(atts[0].id, {}, good)


def test_migration_from_version_1_keeps_the_data(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    _v1(db)
    db.execute("INSERT INTO trainees (name, created_unix) VALUES ('Ann', 1)")
    db.execute("INSERT INTO attempts (trainee_id, case_id, started_unix, state) VALUES (1, 'c', 2, 'in_progress')")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with History(path) as h:
        assert h.schema_version == SCHEMA_VERSION == 3
        assert h.exams("Ann") == []  # version 3: the exams table
        (a,) = h.open_attempts("Ann")
        assert a.case_id == "c" and a.exam_set is None


def test_newer_or_foreign_database_is_refused_by_name(tmp_path):
    path = tmp_path / "new.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    with pytest.raises(HistoryError, match="newer Isthmus") as exc:
        History(path)
    assert str(path) in str(exc.value)
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(HistoryError, match="not a usable"):
        History(junk)


def test_attempt_in_progress_survives_sigkill(tmp_path):
    path = tmp_path / "h.sqlite3"
    script = textwrap.dedent(f"""
        import sys
        from app.teaching.history import History
        h = History({str(path)!r})
        aid = h.start_attempt("Ann", "case03")
        n = 0
        h.save_draft(aid, {{"draft": n}})
        print("ready", flush=True)
        while True:  # keep writing drafts until killed mid-write
            n += 1
            h.save_draft(aid, {{"draft": n, "pad": "x" * 5000}})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            cwd=os.getcwd(), env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        assert proc.stdout.readline().strip() == "ready"
        import time

        time.sleep(0.5)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with History(path) as h:
        assert h._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        (a,) = h.open_attempts("Ann")
        assert a.case_id == "case03" and a.state == "in_progress"
        draft = h.draft_of(a.id)
        assert isinstance(draft["draft"], int) and draft["draft"] >= 0
        h.abandon(a.id)
        assert h.open_attempts() == []
