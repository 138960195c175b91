"""A study that is replaced leaves nothing behind in the background machinery (issue 16: opening
studies one after another must not grow the memory): QThreadPool keeps a Python reference to
every runnable it ran, so a finished worker must not keep what it worked on."""

from __future__ import annotations

import gc
import weakref

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
