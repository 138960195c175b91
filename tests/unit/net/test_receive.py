"""Where retrieved instances land, and when a retrieve counts as complete (no server needed)."""

from __future__ import annotations

from pathlib import Path

from app.net.models import RetrieveProgress, SeriesRecord
from app.net.receive import InstanceSink

STUDY, SERIES_A, SERIES_B = "1.2.3", "1.2.3.1", "1.2.3.2"


def _sink(tmp_path: Path, seen: list[RetrieveProgress] | None = None, n_b: int | None = 1) -> InstanceSink:
    series = [SeriesRecord(SERIES_A, STUDY, "MR", 1, "", 2), SeriesRecord(SERIES_B, STUDY, "CT", 2, "", n_b)]
    return InstanceSink.for_series(STUDY, tmp_path, series, seen.append if seen is not None else None)


def test_instances_are_written_by_uid_and_progress_counts_series_and_bytes(tmp_path):
    seen: list[RetrieveProgress] = []
    sink = _sink(tmp_path, seen)
    assert sink.accept(STUDY, SERIES_A, "1.2.3.1.1", b"a" * 10) is None
    assert sink.accept(STUDY, SERIES_A, "1.2.3.1.2", b"b" * 5) is None
    assert (tmp_path / STUDY / SERIES_A / "1.2.3.1.1.dcm").read_bytes() == b"a" * 10
    assert seen[-1] == RetrieveProgress(instances_done=2, instances_total=3, bytes_done=15, series_done=1, series_total=2)
    result = sink.result(None, 0, [])
    assert result.complete is False and "only 2 of 3 instances arrived" in result.message
    assert sink.accept(STUDY, SERIES_B, "1.2.3.2.1", b"c") is None
    assert sink.result(None, 0, []).complete is True


def test_uids_that_are_not_uids_never_become_paths(tmp_path):
    sink = _sink(tmp_path / "dest")
    for bad in ("../../etc", "1.2/../../x", "", "1.2.3\\x", "1." + "2" * 80):
        why = sink.accept(STUDY, SERIES_A, bad, b"evil")
        assert why is not None and "malformed UID" in why
    assert sink.accept(STUDY, "..", "1.2.3.1.1", b"evil") is not None
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_an_instance_of_another_study_is_refused(tmp_path):
    sink = _sink(tmp_path)
    why = sink.accept("9.9.9", SERIES_A, "9.9.9.1", b"x")
    assert why == "instance 9.9.9.1 belongs to study 9.9.9, not the requested 1.2.3"
    result = sink.result(None, 0, [why])
    assert result.complete is False and result.failed == 1 and "could not be stored" in result.message


def test_unknown_counts_stay_unknown(tmp_path):
    sink = _sink(tmp_path, n_b=None)  # the PACS did not say how many instances series B has
    assert sink.instances_total is None
    sink.accept(STUDY, SERIES_A, "1.2.3.1.1", b"x")
    assert sink.snapshot().instances_total is None
    assert sink.result(None, 0, []).message == "1 instance(s) retrieved"
