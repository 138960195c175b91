"""Exam mode: a set of N cases, timed, with no feedback until the set is finished.

``plan_exam`` picks the cases (deterministic for a seed; not-yet-attempted cases first);
attempts are recorded in the history with ``exam_set`` = the exam's id; ``exam_report`` gives
the per-case scores only once every case of the set is submitted or the time is up (cases not
submitted by then count as 0 %, "not submitted"). ``record_exam`` keeps the set itself in the
history, so ``unfinished_exam`` / ``next_case_index`` resume it after a crash at the same case.
Qt-free.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from app.findings.io import findings_from_dict, findings_to_dict
from app.findings.model import StudyFindings
from app.teaching.case import TeachingCase
from app.teaching.history import Attempt, History
from app.teaching.library import Library
from app.teaching.scoring import SKILLS, ScoreResult, score_read


@dataclass(frozen=True)
class ExamSet:
    exam_id: str
    trainee: str
    case_ids: tuple[str, ...]
    time_limit_s: float
    started_unix: float

    def time_left_s(self, now_unix: float) -> float:
        return max(0.0, self.started_unix + self.time_limit_s - now_unix)


@dataclass(frozen=True)
class ExamReport:
    finished: bool
    scores: dict[str, float | None]  # case id -> score %, None = not submitted
    mean_pct: float | None  # None while the exam runs (no feedback until the end)
    attempts: dict[str, Attempt] = field(default_factory=dict)  # case id -> its submitted attempt


def plan_exam(library: Library, trainee: str, n_cases: int, time_limit_s: float, started_unix: float,
              history: History | None = None, seed: int = 0) -> ExamSet:
    if n_cases < 1:
        raise ValueError("an exam needs at least one case")
    if n_cases > len(library.cases):
        raise ValueError(f"the library has {len(library.cases)} case(s); an exam of {n_cases} is not possible")
    if time_limit_s <= 0:
        raise ValueError("the time limit must be positive")
    done = history.attempted_case_ids(trainee) if history is not None else set()
    rng = random.Random(seed)
    fresh = [c.case_id for c in library.cases if c.case_id not in done]
    seen = [c.case_id for c in library.cases if c.case_id in done]
    rng.shuffle(fresh)
    rng.shuffle(seen)
    chosen = tuple((fresh + seen)[:n_cases])
    exam_id = f"exam-{trainee}-{int(started_unix * 1000)}-{seed}"  # milliseconds: two sets never share an id
    return ExamSet(exam_id, trainee, chosen, float(time_limit_s), started_unix)


def exam_of_cases(trainee: str, case_ids: Sequence[str], time_limit_s: float, started_unix: float) -> ExamSet:
    """An exam of the cases the trainee chose, read in the given order."""
    if not case_ids:
        raise ValueError("an exam needs at least one case")
    if len(set(case_ids)) != len(case_ids):
        raise ValueError("a case can appear only once in an exam")
    if time_limit_s <= 0:
        raise ValueError("the time limit must be positive")
    return ExamSet(f"exam-{trainee}-{int(started_unix * 1000)}-chosen", trainee, tuple(case_ids), float(time_limit_s),
                   started_unix)


def record_exam(history: History, exam: ExamSet) -> None:
    history.record_exam(exam.exam_id, exam.trainee, exam.case_ids, exam.time_limit_s, exam.started_unix)


def unfinished_exam(history: History, trainee: str) -> ExamSet | None:
    """The trainee's latest exam that was never finished (e.g. interrupted by a crash), or None."""
    open_sets = [e for e in history.exams(trainee) if e[4] is None]
    if not open_sets:
        return None
    exam_id, case_ids, limit_s, started, _ = open_sets[-1]
    return ExamSet(exam_id, trainee, case_ids, limit_s, started)


def next_case_index(history: History, exam: ExamSet) -> int:
    """Index of the first case of the set not yet submitted (``len(case_ids)`` when all are)."""
    done = {a.case_id for a in history.attempts(exam.trainee) if a.exam_set == exam.exam_id and a.state == "submitted"}
    return next((i for i, cid in enumerate(exam.case_ids) if cid not in done), len(exam.case_ids))


def exam_skill_pct(results: Iterable[ScoreResult]) -> dict[str, float | None]:
    """Accuracy per skill over the set: mean of the cases that have an item of the skill (None = none)."""
    per_case = [r.skill_pct() for r in results]
    out: dict[str, float | None] = {}
    for skill in SKILLS:
        values = [p[skill] for p in per_case if p[skill] is not None]
        out[skill] = round(sum(values) / len(values), 1) if values else None
    return out


def exam_report(history: History, exam: ExamSet, now_unix: float) -> ExamReport:
    attempts = {a.case_id: a for a in history.attempts(exam.trainee)
                if a.exam_set == exam.exam_id and a.state == "submitted"}
    submitted = {cid: a.score_pct for cid, a in attempts.items()}
    closed = any(e[0] == exam.exam_id and e[4] is not None for e in history.exams(exam.trainee))
    finished = closed or all(cid in submitted for cid in exam.case_ids) or exam.time_left_s(now_unix) == 0.0
    if not finished:
        return ExamReport(False, {}, None)
    scores = {cid: submitted.get(cid) for cid in exam.case_ids}
    mean = sum(v or 0.0 for v in scores.values()) / len(scores)
    return ExamReport(True, scores, round(mean, 1), attempts)


def submit_open_drafts(history: History, exam: ExamSet, cases: dict[str, TeachingCase]) -> None:
    """At the end of the set (or when time is up): every attempt of the exam still in progress is
    submitted with its last draft (what was read); one whose case or reference cannot be loaded
    is abandoned (it counts as not submitted)."""
    for attempt in history.open_attempts(exam.trainee):
        if attempt.exam_set != exam.exam_id:
            continue
        try:
            draft = history.draft_of(attempt.id)
            read = findings_from_dict(draft) if draft else StudyFindings()
            reference = cases[attempt.case_id].load_reference()
        except Exception:
            history.abandon(attempt.id)
            continue
        history.submit(attempt.id, findings_to_dict(read), score_read(read, reference))


def exam_results(history: History, report: ExamReport, cases: dict[str, TeachingCase]) -> dict[str, ScoreResult]:
    """The full result of each submitted case of a finished exam (its stored read scored again
    against the reference), for the per-case feedback; cases that cannot be loaded are left out."""
    out: dict[str, ScoreResult] = {}
    for case_id, attempt in report.attempts.items():
        doc = history.read_of(attempt.id)
        case = cases.get(case_id)
        if doc is None or case is None:
            continue
        try:
            out[case_id] = score_read(findings_from_dict(doc), case.load_reference())
        except Exception:
            continue
    return out


def exam_history(history: History, trainee: str, now_unix: float) -> list[tuple[ExamSet, ExamReport]]:
    """Every exam set of the trainee with its report (``finished`` False = still running)."""
    sets = [ExamSet(e[0], trainee, e[1], e[2], e[3]) for e in history.exams(trainee)]
    return [(s, exam_report(history, s, now_unix)) for s in sets]
