"""The opt-in two-process scan (app/dicom/scan_pool.py) gives exactly the one-process result, and
falls back to scanning everything here when its helper fails."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from app.dicom import scan_paths, scan_pool

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or (os.cpu_count() or 1) < 2, reason="needs fork, 2 cores")


def _summary(result) -> tuple:
    series = [(e.key.split("#")[0] != "", e.series_instance_uid, e.kind, e.split_note, len(e.instances),
               [(str(h.path), h.sop_instance_uid, h.image_position_lps, h.load_header is not None)
                for h in e.instances])
              for e in result.all_series()]
    skipped = sorted((str(s.path), s.reason, s.category) for s in result.skipped)
    return result.files_seen, series, skipped


@pytest.fixture
def mixed_folder(writer, tmp_path: Path) -> Path:
    writer.stack(7, folder="ct")
    writer.stack(5, folder="mr", modality="MR")
    (tmp_path / "notes.txt").write_text("not dicom")
    damaged = tmp_path / "ct" / "IMG0003"
    damaged.write_bytes(damaged.read_bytes()[:200])  # cut inside the header
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "dup").write_bytes((tmp_path / "ct" / "IMG0001").read_bytes())  # a duplicate
    return tmp_path


def test_two_process_scan_equals_the_one_process_scan(mixed_folder, monkeypatch):
    expected = _summary(scan_paths([mixed_folder]))
    monkeypatch.setenv("ISTHMUS_SCAN_PROCESSES", "2")
    monkeypatch.setattr(scan_pool, "MIN_FILES", 2)
    calls = []
    real_split = scan_pool.scan_split
    monkeypatch.setattr(scan_pool, "scan_split", lambda *a: calls.append(1) or real_split(*a))
    progress: list[tuple[int, int]] = []
    got = scan_paths([mixed_folder], progress=lambda d, t: progress.append((d, t)))
    assert calls, "the helper was not used"
    assert _summary(got) == expected
    assert progress[-1][0] == progress[-1][1] == expected[0]
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(progress))
    load_header = got.all_series()[0].instances[0].load_header
    assert load_header.get("Rows") == 8  # a header sent back by the helper still decodes


def test_a_failing_helper_leaves_the_result_unchanged(mixed_folder, monkeypatch):
    expected = _summary(scan_paths([mixed_folder]))
    monkeypatch.setenv("ISTHMUS_SCAN_PROCESSES", "2")
    monkeypatch.setattr(scan_pool, "MIN_FILES", 2)
    monkeypatch.setattr(scan_pool, "_child", lambda *a: os._exit(3))  # the helper dies without a result
    assert _summary(scan_paths([mixed_folder])) == expected


def test_off_unless_asked_for(monkeypatch):
    monkeypatch.delenv("ISTHMUS_SCAN_PROCESSES", raising=False)
    assert not scan_pool.available()
    monkeypatch.setenv("ISTHMUS_SCAN_PROCESSES", "2")
    assert scan_pool.available()
