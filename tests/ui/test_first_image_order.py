"""Opening a study: its previews come first, and the full loads wait for the first image's paint
(a full-resolution JPEG 2000 decode holds the GIL ~100 ms; started beside the previews it delayed
the first paint by as much; issue 16)."""

from __future__ import annotations

from viewer_study import study_loaded, write_dx, write_study


def _kinds(c) -> list[str]:
    return sorted(w.tag[0] for w in c._workers.values())


def test_new_study_starts_every_preview_before_any_load_and_releases_the_loads(qtbot, tmp_path):
    from app.ui.study_controller import StudyController

    for i in range(3):
        write_dx(tmp_path / f"dx{i}", f"DX {i}", i + 1)
    c = StudyController()
    previews, loaded = [], []
    c.sig_preview.connect(lambda k, px: previews.append(k))
    c.sig_loaded.connect(lambda k, o, p: loaded.append(k))
    with qtbot.waitSignal(c.sig_scanned, timeout=30_000):
        c.open_paths([str(tmp_path)])
    keys = [s.key for s in c.result.all_series()]
    assert len(keys) == 3
    c.request_all(keys)
    assert "load" not in _kinds(c)  # held: only previews were started
    assert c.busy  # held loads count as work for the reader (progress bar, Cancel)
    qtbot.waitUntil(lambda: len(previews) >= 1, timeout=30_000)
    assert not loaded
    c.release_loads()  # what the presenter does once the first image has been painted
    qtbot.waitUntil(lambda: sorted(loaded) == sorted(keys), timeout=60_000)
    qtbot.waitUntil(lambda: not c.busy, timeout=30_000)
    # later requests (the study is shown) are not held
    c.loaded.clear()
    c.request(keys[0])
    assert "load" in _kinds(c)
    c.shutdown()


def test_held_loads_start_without_a_presenter_once_no_preview_is_left(qtbot, tmp_path):
    from app.ui.study_controller import StudyController

    write_dx(tmp_path / "dx", "DX", 1)
    c = StudyController()
    loaded = []
    c.sig_loaded.connect(lambda k, o, p: loaded.append(k))
    with qtbot.waitSignal(c.sig_scanned, timeout=30_000):
        c.open_paths([str(tmp_path)])
    key = c.result.all_series()[0].key
    c.request(key)  # nobody paints anything: the fallback starts the load after the last preview
    qtbot.waitUntil(lambda: loaded == [key], timeout=60_000)
    c.shutdown()


def test_window_loads_every_series_after_the_first_image(qtbot, tmp_path):
    from app.ui.main_window import MainWindow

    root = write_study(tmp_path / "study")
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    starts: list[str] = []
    first: list[int] = []
    win.presenter.sig_first_image.connect(lambda _t: first.append(len(starts)))
    orig_start = win.controller._start

    def spy(kind, key, fn, *args, **kw):
        starts.append(kind)
        return orig_start(kind, key, fn, *args, **kw)

    win.controller._start = spy
    win.open_paths([str(root)])
    qtbot.waitUntil(lambda: study_loaded(win), timeout=60_000)
    assert first, "no first image"
    assert "load" not in starts[:first[0]]  # no full load had started when the first image came
    assert "load" in starts


def test_closing_the_window_while_loaded_series_wait_to_be_drawn_raises_nothing(qtbot, tmp_path):
    """A loaded series is drawn one view per event-loop turn (timers); a window deleted before
    those timers fire cancels them instead of drawing into deleted views (a CI failure: 'Internal
    C++ object (ImageItem) already deleted' in the next test's event loop)."""
    import shiboken6

    from app.ui.main_window import MainWindow

    root = write_study(tmp_path / "study")
    win = MainWindow()
    win.resize(1200, 800)
    win.show()
    win.open_paths([str(root)])
    qtbot.waitUntil(lambda: study_loaded(win), timeout=60_000)
    keys = [v.cell.series_key for v in win.grid.views() if v.cell is not None and v.cell.series_key]
    key = max(set(keys), key=keys.count)  # the CT: in several cells, drawn 25 ms apart
    assert keys.count(key) >= 2
    obj, prep = win.controller.loaded[key]
    views = list(win.grid.views())
    win.presenter._on_loaded(key, obj, prep)  # as when its load arrives: one timer per view
    win.controller.shutdown()
    shiboken6.delete(win)  # before those timers fire
    assert not any(shiboken6.isValid(v) for v in views)
    qtbot.wait(300)  # pytest-qt fails the test on any exception raised in the event loop meanwhile
