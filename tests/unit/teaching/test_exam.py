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


def test_an_interrupted_exam_resumes_at_the_first_case_not_submitted(tmp_path):
    from app.teaching.exam import (
        exam_of_cases,
        next_case_index,
        record_exam,
        unfinished_exam,
    )

    ref = reference_read(case_by_number(3))
    path = tmp_path / "h.sqlite3"
    exam = exam_of_cases("Ann", ["c2", "c0", "c1"], 900, 1000.0)
    with History(path) as h:
        record_exam(h, exam)
        aid = h.start_attempt("Ann", "c2", exam_set=exam.exam_id)
        h.submit(aid, findings_to_dict(ref), score_read(ref, ref, with_pathway=False))
        h.start_attempt("Ann", "c0", exam_set=exam.exam_id)  # in progress when the program died
    with History(path) as h:  # after the restart
        again = unfinished_exam(h, "Ann")
        assert again == exam and next_case_index(h, again) == 1
        assert unfinished_exam(h, "Bob") is None
        h.finish_exam(exam.exam_id)
        assert unfinished_exam(h, "Ann") is None
    with pytest.raises(ValueError, match="only once"):
        exam_of_cases("Ann", ["c1", "c1"], 900, 0.0)


def test_exam_skill_accuracy_is_the_mean_over_cases_with_the_skill():
    import dataclasses

    from app.teaching.exam import exam_skill_pct

    ref = reference_read(case_by_number(3))
    perfect = score_read(ref, ref, with_pathway=False)
    missed = score_read(dataclasses.replace(ref, pars=()), ref, with_pathway=False)
    skills = exam_skill_pct([perfect, missed])
    assert skills["pars"] == (perfect.skill_pct()["pars"] + missed.skill_pct()["pars"]) / 2 < 100.0
    assert skills["pathway"] is None  # no case of the set had a pathway item
