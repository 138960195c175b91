"""Where retrieved instances go: ``dest/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm``, written atomically.

Shared by C-GET, C-MOVE and WADO-RS. UIDs from the network become folder names only when
they are well-formed DICOM UIDs (digits and dots), so a hostile server cannot write outside dest.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from app.core.atomic import write_bytes_atomic
from app.net.models import RetrieveProgress, RetrieveResult, SeriesRecord

_UID_RE = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def safe_uid(value: object) -> str | None:
    text = str(value or "").strip().rstrip("\x00")
    return text if len(text) <= 64 and _UID_RE.match(text) else None


class InstanceSink:
    """Collects received instances of one study, counts them and reports progress (thread-safe)."""

    def __init__(self, study_uid: str, dest: Path, series_expected: dict[str, int | None],
                 progress: Callable[[RetrieveProgress], None] | None, instances_total: int | None) -> None:
        self.study_uid = study_uid
        self.folder = dest / study_uid
        self.files: list[Path] = []
        self.rejected: list[str] = []
        self.bytes_done = 0
        self.instances_total = instances_total
        self._series_expected = series_expected
        self._per_series: Counter[str] = Counter()
        self._progress = progress
        self._lock = threading.Lock()

    @classmethod
    def for_series(cls, study_uid: str, dest: Path, series: list[SeriesRecord],
                   progress: Callable[[RetrieveProgress], None] | None) -> InstanceSink:
        """A sink expecting the instances the series query announced (total unknown if any count is)."""
        expected = {s.series_uid: s.n_instances for s in series}
        counts = list(expected.values())
        total = sum(n for n in counts if n is not None) if counts and None not in counts else None
        return cls(study_uid, dest, expected, progress, total)

    def nothing_announced(self) -> bool:
        """The series query found no series: the PACS does not hold the study."""
        return not self._series_expected

    def accept(self, study_uid: object, series_uid: object, sop_uid: object, data: bytes) -> str | None:
        """Write one instance; None when stored, else why it was refused."""
        study, series, sop = safe_uid(study_uid), safe_uid(series_uid), safe_uid(sop_uid)
        if study is None or series is None or sop is None:
            return f"malformed UID in a received instance ({study_uid!r}, {series_uid!r}, {sop_uid!r})"
        if study != self.study_uid:
            return f"instance {sop} belongs to study {study}, not the requested {self.study_uid}"
        path = self.folder / series / f"{sop}.dcm"
        try:
            write_bytes_atomic(path, data)
        except OSError as exc:
            return f"cannot write {path}: {exc}"
        with self._lock:
            self.files.append(path)
            self.bytes_done += len(data)
            self._per_series[series] += 1
            snapshot = self.snapshot()
        if self._progress is not None:
            self._progress(snapshot)
        return None

    def set_total(self, total: int | None) -> None:
        with self._lock:
            if total is not None and (self.instances_total is None or total > self.instances_total):
                self.instances_total = total

    def snapshot(self) -> RetrieveProgress:
        done_series = sum(1 for uid, n in self._series_expected.items()
                          if n is not None and self._per_series.get(uid, 0) >= n)
        return RetrieveProgress(instances_done=len(self.files), instances_total=self.instances_total,
                                bytes_done=self.bytes_done, series_done=done_series,
                                series_total=len(self._series_expected) or None)

    def result(self, reason: str | None, failed: int, problems: list[str]) -> RetrieveResult:
        """The outcome: complete only with no reason, no refused instance and every announced instance here."""
        total = self.instances_total
        got = len(self.files)
        if reason is None and problems:
            reason = f"{len(problems)} instance(s) could not be stored: {problems[0]}"
        if reason is None and got == 0:
            reason = "no instance arrived (does the PACS hold this study?)"
        if reason is None and total is not None and got < total:
            reason = f"only {got} of {total} instances arrived"
        message = (f"{got} instance(s) retrieved" if reason is None
                   else f"incomplete: {reason}; {got}{f' of {total}' if total is not None else ''} instance(s) kept")
        return RetrieveResult(study_uid=self.study_uid, folder=self.folder, files=list(self.files),
                              complete=reason is None, failed=failed + len(problems), message=message)
