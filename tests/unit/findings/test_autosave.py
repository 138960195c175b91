"""Autosave: coalescing background writes, flush/close, restore, and survival of SIGKILL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from findings_factories import rich_findings

from app.findings import autosave as asv, model as m

UID = "1.2.3.4.5"


def test_flush_writes_findings_and_annotations(tmp_path):
    f = rich_findings()
    doc = {"annotations": [{"id": "a-1", "kind": "length", "points": [[1, 2], [3, 4]]}]}
    with asv.Autosaver(UID, data_dir=tmp_path) as saver:
        saver.update(f, doc)
        saver.flush()
        assert saver.path == tmp_path / "autosave" / "1.2.3.4.5.json"
        assert asv.load_autosave(UID, data_dir=tmp_path) == (f, doc)
    raw = json.loads(saver.path.read_text())
    assert raw["format"] == "isthmus-autosave" and raw["study_instance_uid"] == UID
    assert abs(raw["saved_unix"] - time.time()) < 10


def test_default_location_is_user_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ISTHMUS_DATA_DIR", str(tmp_path / "ud"))
    saver = asv.Autosaver(UID)
    saver.update(m.StudyFindings(study_instance_uid=UID), None)
    saver.close()
    assert (tmp_path / "ud" / "autosave" / "1.2.3.4.5.json").exists()
    findings, annotations = asv.load_autosave(UID)
    assert findings.study_instance_uid == UID and annotations is None


def test_background_thread_writes_within_a_second_and_coalesces(tmp_path):
    saver = asv.Autosaver(UID, data_dir=tmp_path, interval_s=0.5)
    try:
        started = time.monotonic()
        for i in range(300):
            saver.update(m.StudyFindings(reader=f"r{i}"), {"i": i})
            time.sleep(0.005)  # ~1.5 s of edits (longer on a loaded machine)
        editing_s = time.monotonic() - started
        deadline = time.monotonic() + 2.0
        while saver.dirty and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not saver.dirty
        time.sleep(0.1)
        assert asv.load_autosave(UID, tmp_path)[1] == {"i": 299}  # the thread wrote the last state
        # coalesced: about one write per 0.5 s of editing (+ the last state), never one per edit
        assert 2 <= saver.writes <= editing_s / 0.5 + 3 < 300
    finally:
        saver.close()


def test_close_flushes_pending_state(tmp_path):
    saver = asv.Autosaver(UID, data_dir=tmp_path, interval_s=30)
    saver.update(m.StudyFindings(reader="first"), {})
    saver.flush()
    saver.update(m.StudyFindings(reader="last"), {"n": 2})  # would wait 30 s
    saver.close()
    saver.close()  # twice is fine
    assert asv.load_autosave(UID, tmp_path)[0].reader == "last"
    with pytest.raises(RuntimeError):
        saver.update(m.StudyFindings(), {})


def test_non_json_annotations_refused_at_update(tmp_path):
    with asv.Autosaver(UID, data_dir=tmp_path) as saver:
        with pytest.raises(TypeError):
            saver.update(m.StudyFindings(), {"bad": object()})
        with pytest.raises(ValueError):
            saver.update(m.StudyFindings(), {"nan": float("nan")})
        assert not saver.dirty


def test_no_autosave_is_none_and_discard_deletes(tmp_path):
    assert asv.load_autosave("9.9.9", tmp_path) is None
    with asv.Autosaver("9.9.9", data_dir=tmp_path) as saver:
        saver.update(m.StudyFindings(), [])
        saver.flush()
        assert asv.load_autosave("9.9.9", tmp_path) is not None
        saver.discard()
        assert asv.load_autosave("9.9.9", tmp_path) is None
    assert asv.delete_autosave("9.9.9", tmp_path) is False


@pytest.mark.parametrize("uid", ["", "../../etc/passwd", "a/b\\c:d", "x" * 300, "1.2.3."])
def test_unsafe_uids_map_inside_the_autosave_folder(uid, tmp_path):
    p = asv.autosave_path(uid, tmp_path)
    assert p.parent == tmp_path / "autosave" and "/" not in p.name and "\\" not in p.name
    assert len(p.name) < 120 and not p.name.startswith(".")
    assert asv.autosave_path(uid + "!", tmp_path) != p or uid == ""


def test_distinct_uids_get_distinct_files(tmp_path):
    assert asv.autosave_path("a/b", tmp_path) != asv.autosave_path("a_b", tmp_path)


@pytest.mark.parametrize("content, needle", [
    ("{not json", "not valid JSON"),
    ('{"format": "other"}', "not an Isthmus autosave"),
    ('{"format": "isthmus-autosave", "version": 99, "findings": {}}', "newer Isthmus"),
    ('{"format": "isthmus-autosave", "version": 1, "findings": {"format": "isthmus-findings", "schema_version": 1, '
     '"pars": [{"level": "L9"}]}}', "autosaved findings"),
])
def test_corrupt_autosave_raises_clear_error(tmp_path, content, needle):
    path = asv.autosave_path(UID, tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(asv.AutosaveError, match=needle) as exc:
        asv.load_autosave(UID, tmp_path)
    assert str(path) in str(exc.value)


def test_stale_temp_files_removed(tmp_path):
    path = asv.autosave_path(UID, tmp_path)
    path.parent.mkdir(parents=True)
    stale = path.parent / f".{path.name}.abc123.tmp"
    stale.write_text("{half")
    os.utime(stale, (time.time() - 60, time.time() - 60))
    asv.Autosaver(UID, data_dir=tmp_path).close()
    assert not stale.exists()


def test_write_failure_is_reported_not_raised(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    saver = asv.Autosaver(UID, data_dir=tmp_path)
    saver.path = blocker / "cannot" / "x.json"  # parent is a file: every write fails
    saver.update(m.StudyFindings(), {})
    saver.flush()
    assert saver.last_error and saver.dirty  # the state is kept for the next attempt
    saver.path = asv.autosave_path(UID, tmp_path)
    saver.flush()
    assert not saver.last_error and not saver.dirty
    saver.close()


@pytest.mark.slow
def test_sigkill_at_random_moments_never_corrupts_and_loses_at_most_2s(tmp_path):
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("needs POSIX signals")
    child = Path(__file__).with_name("autosave_child.py")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    rng = random.Random(20261121)
    last_counter = -1
    for round_no in range(20):
        proc = subprocess.Popen([sys.executable, str(child), UID, str(tmp_path)], stdout=subprocess.PIPE, env=env)
        try:
            assert proc.stdout.readline().strip() == b"started"
            time.sleep(rng.uniform(0.0, 1.6))
            killed_at = time.time()
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        loaded = asv.load_autosave(UID, tmp_path)  # must always parse and validate
        assert loaded is not None, f"round {round_no}: no autosave"
        findings, annotations = loaded
        assert findings.reader == "child"
        lost_s = killed_at - annotations["t"]
        assert lost_s <= 2.0, f"round {round_no}: autosave {lost_s:.2f} s old at the kill"
        assert len(annotations["items"]) == 50
        last_counter = annotations["counter"]
    assert last_counter >= 0
    leftovers = list((tmp_path / "autosave").glob("*.json"))
    assert leftovers == [asv.autosave_path(UID, tmp_path)]
