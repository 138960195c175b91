"""A study that is replaced leaves nothing behind in the background machinery (issue 16: opening
studies one after another must not grow the memory): QThreadPool keeps a Python reference to
every runnable it ran, so a finished worker must not keep what it worked on."""

from __future__ import annotations

import gc
import weakref

from PySide6.QtCore import QThreadPool
from viewer_study import write_ct


def test_replaced_study_series_and_volume_are_released(qtbot, tmp_path):
    from app.ui.study_controller import StudyController

    write_ct(tmp_path / "first", n_slices=12)
    write_ct(tmp_path / "second", n_slices=8)
    c = StudyController()
    with qtbot.waitSignal(c.sig_scanned, timeout=30_000):
        c.open_paths([str(tmp_path / "first")])
    entry = c.result.all_series()[0]
    with qtbot.waitSignal(c.sig_loaded, timeout=30_000) as loaded:
        c.request(entry.key)
    volume = loaded.args[1]
    gone_entry, gone_volume = weakref.ref(entry), weakref.ref(volume)
    gone_header = weakref.ref(entry.instances[0])
    del entry, volume, loaded

    with qtbot.waitSignal(c.sig_scanned, timeout=30_000):
        c.open_paths([str(tmp_path / "second")])
    with qtbot.waitSignal(c.sig_loaded, timeout=30_000):
        c.request(c.result.all_series()[0].key)
    qtbot.waitUntil(lambda: not c.busy, timeout=30_000)
    gc.collect()
    assert gone_volume() is None
    assert gone_entry() is None, "a finished worker still holds the first study's series"
    assert gone_header() is None
    c.shutdown()


def test_replaced_study_in_the_window_leaves_no_session_or_scan_behind(qtbot):
    """The whole window: the SR search and the study index run on the global pool with the
    study's scan and session; a sample case (its reference read is a skipped non-DICOM file, so
    the SR search runs) replaced by another leaves neither alive (six cases a round grew the RSS
    6-10 MB every round before)."""
    from pathlib import Path

    from viewer_study import study_loaded

    from app.ui.main_window import MainWindow

    cases = Path(__file__).resolve().parents[2] / "sample_dicom"
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    win.open_paths([str(cases / "case05_l4_unilateral")])
    qtbot.waitUntil(lambda: study_loaded(win) and win.annotations.session is not None, timeout=60_000)
    qtbot.waitUntil(lambda: not QThreadPool.globalInstance().activeThreadCount(), timeout=30_000)
    first_session, first_scan = weakref.ref(win.annotations.session), weakref.ref(win.controller.result)
    first_uid = win.annotations.session.study_uid
    win.open_paths([str(cases / "case01_normal_adolescent")])
    qtbot.waitUntil(lambda: study_loaded(win) and win.annotations.session is not None
                    and win.annotations.session.study_uid != first_uid, timeout=60_000)
    qtbot.waitUntil(lambda: not QThreadPool.globalInstance().activeThreadCount(), timeout=30_000)
    qtbot.wait(100)
    gc.collect()
    assert first_scan() is None, "a finished worker still holds the first study's scan"
    assert first_session() is None, "a finished worker still holds the first study's session"


def test_finished_workers_are_deleted_by_the_next_start(qtbot, monkeypatch):
    """QThreadPool (PySide) keeps every runnable it ran, with its signals QObject and cancel
    token, for as long as the pool lives; start_worker deletes those that finished a while ago, so
    one more study opened does not leave one more worker behind for good."""
    from app.ui import workers

    monkeypatch.setattr(workers, "RETIRE_AFTER_S", 0.0)
    pool = QThreadPool()
    done: list[object] = []
    refs = []
    for i in range(6):
        w = workers.Worker(lambda i=i: i * 2, pass_progress=False, tag=i)
        w.signals.finished.connect(lambda tag, result: done.append((tag, result)))
        refs.append(weakref.ref(w))
        workers.start_worker(pool, w)
        del w
        qtbot.waitUntil(lambda n=i + 1: len(done) == n, timeout=10_000)
    pool.waitForDone()
    gc.collect()
    assert done == [(i, i * 2) for i in range(6)]
    alive = [r() is not None for r in refs]
    assert alive[:5] == [False] * 5, f"finished workers still alive: {alive}"
