"""Exam mode: a set of N cases, timed, with no feedback until the set is finished.

``plan_exam`` picks the cases (deterministic for a seed; not-yet-attempted cases first);
attempts are recorded in the history with ``exam_set`` = the exam's id; ``exam_report`` gives
the per-case scores only once every case of the set is submitted or the time is up (cases not
submitted by then count as 0 %, "not submitted"). Qt-free.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from app.teaching.history import History
from app.teaching.library import Library


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
    return ExamSet(f"exam-{trainee}-{int(started_unix)}-{seed}", trainee, chosen, float(time_limit_s), started_unix)


def exam_report(history: History, exam: ExamSet, now_unix: float) -> ExamReport:
    submitted = {a.case_id: a.score_pct for a in history.attempts(exam.trainee)
                 if a.exam_set == exam.exam_id and a.state == "submitted"}
    finished = all(cid in submitted for cid in exam.case_ids) or exam.time_left_s(now_unix) == 0.0
    if not finished:
        return ExamReport(False, {}, None)
    scores = {cid: submitted.get(cid) for cid in exam.case_ids}
    mean = sum(v or 0.0 for v in scores.values()) / len(scores)
    return ExamReport(True, scores, round(mean, 1))
