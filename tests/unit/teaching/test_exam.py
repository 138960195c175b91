"""Exam mode: N cases, deterministic choice preferring unseen cases, no results until the set is
finished or the time is up."""

from __future__ import annotations

import pytest

from app.findings.io import findings_to_dict
from app.samples.cases import case_by_number
from app.samples.generate import reference_read
from app.teaching.case import CaseMetadata, TeachingCase
from app.teaching.exam import exam_report, plan_exam
from app.teaching.history import History
from app.teaching.library import Library
from app.teaching.scoring import score_read


def _library(tmp_path, n=5):
    return Library(cases=[TeachingCase(tmp_path, CaseMetadata(f"c{i}", f"Case {i}", "h")) for i in range(n)])


def test_plan_prefers_unseen_cases_and_is_deterministic(tmp_path):
    lib = _library(tmp_path)
    with History(tmp_path / "h.sqlite3") as h:
        ref = reference_read(case_by_number(1))
        for cid in ("c0", "c1", "c2"):
            aid = h.start_attempt("Ann", cid)
            h.submit(aid, findings_to_dict(ref), score_read(ref, ref, with_pathway=False))
        exam = plan_exam(lib, "Ann", 2, 600, 1000.0, h, seed=3)
        assert set(exam.case_ids) == {"c3", "c4"}
        assert plan_exam(lib, "Ann", 2, 600, 1000.0, h, seed=3) == exam
    with pytest.raises(ValueError, match="not possible"):
        plan_exam(lib, "Ann", 9, 600, 0.0)


def test_no_feedback_until_the_set_is_finished_or_time_is_up(tmp_path):
    lib = _library(tmp_path, 3)
    ref = reference_read(case_by_number(3))
    with History(tmp_path / "h.sqlite3") as h:
        exam = plan_exam(lib, "Ann", 2, 600, 1000.0, h)
        first, second = exam.case_ids
        aid = h.start_attempt("Ann", first, exam_set=exam.exam_id)
        h.submit(aid, findings_to_dict(ref), score_read(ref, ref, with_pathway=False))
        running = exam_report(h, exam, now_unix=1100.0)
        assert not running.finished and running.scores == {} and running.mean_pct is None
        timed_out = exam_report(h, exam, now_unix=1600.0)
        assert timed_out.finished and timed_out.scores == {first: 100.0, second: None} and timed_out.mean_pct == 50.0
        aid = h.start_attempt("Ann", second, exam_set=exam.exam_id)
        h.submit(aid, findings_to_dict(ref), score_read(ref, ref, with_pathway=False))
        done = exam_report(h, exam, now_unix=1200.0)
        assert done.finished and done.mean_pct == 100.0
