"""File > Close study (Ctrl+W): the reader's work is written before the study goes, nothing of
the closed patient stays on screen, loads still in flight are dropped, and the study's scan,
session and volumes are let go (issue 16: "closing the study returns the memory")."""

from __future__ import annotations

import gc
import json
import weakref
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QTabBar, QTreeWidget, QWidget
from viewer_study import study_loaded

from app.session_autosave import autosave_path

pytestmark = pytest.mark.gui

CASE = Path(__file__).resolve().parents[2] / "sample_dicom" / "case01_normal_adolescent"


def _visible_texts(win) -> list[str]:
    """Every text a reader can see: title, status bar, labels, buttons, fields, tabs, tree rows,
    dock titles and the images' corner texts. The start page's study list is left out: it is
    the worklist of every study opened (as at launch), not the closed study's display."""
    worklist = win.start_page.studies
    texts = [win.windowTitle(), win.statusBar().currentMessage()]
    for w in win.findChildren(QWidget):
        if not w.isVisible() or w is worklist or worklist.isAncestorOf(w):
            continue
        if isinstance(w, (QLabel, QAbstractButton, QLineEdit)):
            texts.append(w.text())
        elif isinstance(w, QTabBar):
            texts += [w.tabText(i) for i in range(w.count())]
        elif isinstance(w, QTreeWidget):
            it = w.invisibleRootItem()
            stack = [it.child(i) for i in range(it.childCount())]
            while stack:
                item = stack.pop()
                texts += [item.text(c) for c in range(w.columnCount())]
                stack += [item.child(i) for i in range(item.childCount())]
        texts.append(w.windowTitle() if w.isWindow() or w.parent() is win else "")
    for v in win.grid.all_views:
        texts += [str(x) for x in v.context.values()] + [v.loading_text, v.series_description, v.note]
    return [t for t in texts if t]


def _open_case(win, qtbot) -> None:
    win.open_paths([str(CASE)])
    qtbot.waitUntil(lambda: study_loaded(win) and win.annotations.session is not None, timeout=30_000)


def _window_with_autosave_off(qtbot, impression: str):
    """A window with case 1 open, ``impression`` typed and the session's autosave stopped (as when
    its folder cannot be written)."""
    from app.ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    _open_case(win, qtbot)
    session = win.annotations.session
    session.set_impression(impression)
    session.autosave.close()
    assert session.autosave.status()[0] == "off"
    return win, session


def _answering(asked: list, button):
    """A stand-in for QMessageBox.warning: records (title, text) and answers ``button``."""
    def warning(parent, title, text, *args):
        asked.append((title, text))
        return button
    return warning


def test_close_study_writes_the_work_shows_no_identity_and_lets_the_study_go(qtbot):
    from app.ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    action = win.actions["file.close_study"]
    assert action.shortcut().toString() == "Ctrl+W"
    assert not action.isEnabled(), "nothing to close at launch"
    _open_case(win, qtbot)
    assert action.isEnabled()
    ident = win.presenter.study_identity.patient
    names = {ident.display_name, ident.patient_id, ident.patient_name}
    assert any(n in t for t in _visible_texts(win) for n in names), "the check would see the patient"

    # a half-typed impression (its typing pause not over yet) is the reader's work too
    win.annotations.ensure_dock()
    panel = win.annotations.review_widget.findings_panel
    panel.impression_edit.setPlainText("Close-study check: no pars defect.")
    session = win.annotations.session
    key, data_dir = session.autosave.key, session.autosave.data_dir
    volume = next(obj for obj, _prep in win.controller.loaded.values() if not isinstance(obj, list))  # an MR volume
    gone = {"session": weakref.ref(session), "scan": weakref.ref(win.controller.result),
            "volume": weakref.ref(volume), "entry": weakref.ref(win.controller.result.all_series()[0])}
    del session, volume, panel

    action.trigger()

    assert win.stack.currentWidget() is win.start_page
    assert not action.isEnabled()
    assert win.windowTitle() == "Isthmus - lumbar spine review"  # the title at launch
    leaks = [t for t in _visible_texts(win) if any(n in t for n in names)]
    assert not leaks, f"the closed patient is still shown: {leaks}"
    assert win.browser.topLevelItemCount() == 0
    assert all(v.display is None and v.cell is None and v.identity is None for v in win.grid.all_views)
    assert win.annotations.session is None and win.presenter.study is None and win.controller.result is None
    saved = json.loads(autosave_path(key, data_dir).read_text(encoding="utf-8"))
    assert "Close-study check: no pars defect." in json.dumps(saved)

    qtbot.waitUntil(lambda: not QThreadPool.globalInstance().activeThreadCount()
                    and not win.controller.pool.activeThreadCount(), timeout=30_000)
    qtbot.wait(50)
    gc.collect()
    alive = [name for name, ref in gone.items() if ref() is not None]
    assert not alive, f"still held after closing: {alive}"

    _open_case(win, qtbot)  # reopened: the work is restored
    assert "Close-study check: no pars defect." in win.annotations.session.findings.impression
    win.close()


def test_closing_while_loading_drops_the_late_results(qtbot):
    from app.ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    c = win.controller
    late: list[str] = []
    # closed during the scan, then during the loads that follow the scan
    win.open_paths([str(CASE)])
    win.close_study()
    with qtbot.waitSignal(c.sig_scanned, timeout=30_000):
        win.open_paths([str(CASE)])
    for sig in (c.sig_scanned, c.sig_preview, c.sig_loaded, c.sig_thumbnail):
        sig.connect(lambda *args: late.append(str(args[0])[:40]))
    in_flight = [w.tag for w in c._workers.values() if w.tag[0] in ("preview", "load")]
    assert in_flight, "the test closes while series are loading"
    win.close_study()
    qtbot.waitUntil(lambda: not c.pool.activeThreadCount(), timeout=30_000)
    qtbot.wait(100)
    # a worker that finished just after the close (its cancel came too late) reports through the
    # controller's one signals object: that result belongs to the closed study
    for tag in in_flight:
        c._signals.finished.emit(tag, (object(), None) if tag[0] == "load" else None)
    qtbot.wait(50)
    assert late == [], f"results of the closed study were delivered: {late}"
    assert not c.busy and not win.progress.isVisible()
    assert win.statusBar().currentMessage() == "", "the closed study's loads are not reported as cancelled"
    assert win.stack.currentWidget() is win.start_page
    assert c.result is None and not c.loaded and win.presenter.study is None
    assert win.browser.topLevelItemCount() == 0
    assert all(v.display is None and v.cell is None for v in win.grid.all_views)
    # the study list's indexer failing late (its worker outlived the close) names the closed
    # study's folder: not over the start page
    win._index_failed(f"{CASE}: database is locked")
    assert win.statusBar().currentMessage() == ""
    win.close()


def test_a_study_whose_autosave_is_off_closes_only_once_the_reader_chose(qtbot, monkeypatch, tmp_path):
    """The autosave stopped: Cancel keeps the study open; Save writes the findings file the
    reader picked, then the study closes."""
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    win, session = _window_with_autosave_off(qtbot, "Written by hand: autosave off.")
    asked: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", _answering(asked, QMessageBox.StandardButton.Cancel))
    assert win.close_study() is False
    assert win.annotations.session is session and win.stack.currentWidget() is win.grid
    assert win.actions["file.close_study"].isEnabled()

    target = tmp_path / "findings.json"
    monkeypatch.setattr(QMessageBox, "warning", _answering(asked, QMessageBox.StandardButton.Save))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kw: (str(target), ""))
    assert win.close_study() is True
    assert len(asked) == 2 and asked[0][0] == "Close study" and "not saved" in asked[0][1]
    assert "Written by hand: autosave off." in target.read_text(encoding="utf-8")
    assert win.annotations.session is None and win.stack.currentWidget() is win.start_page
    win.close()


def test_quitting_with_the_autosave_off_asks_and_cancel_keeps_the_window_and_the_work(qtbot, monkeypatch):
    """Quitting the window is closing the study too: with the autosave off the reader is asked
    (Save / Discard / Cancel) instead of the work going silently."""
    from PySide6.QtWidgets import QMessageBox

    win, session = _window_with_autosave_off(qtbot, "Typed after the autosave stopped.")
    asked: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", _answering(asked, QMessageBox.StandardButton.Cancel))
    assert win.close() is False, "Cancel keeps the window open"
    assert win.isVisible() and win.annotations.session is session
    assert asked and asked[0][0] == "Quit Isthmus" and "not saved" in asked[0][1]
    assert session.findings.impression == "Typed after the autosave stopped."

    monkeypatch.setattr(QMessageBox, "warning", _answering(asked, QMessageBox.StandardButton.Discard))
    assert win.close() is True and not win.isVisible()
    assert len(asked) == 2 and win.annotations.session is None
    assert win.close() is True and len(asked) == 2, "a closed window is not asked about again"


def test_quitting_with_a_working_autosave_asks_nothing_and_writes_the_work(qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from app.ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    _open_case(win, qtbot)
    session = win.annotations.session
    session.set_impression("Written with the autosave on.")
    saved_at = Path(session.autosave.path)
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: asked.append(args[1]) or QMessageBox.StandardButton.Cancel)
    assert win.close() is True
    assert asked == []
    assert "Written with the autosave on." in saved_at.read_text(encoding="utf-8")


def test_opening_another_study_over_one_whose_autosave_is_off_asks_first(qtbot, monkeypatch, synthetic_study):
    from PySide6.QtWidgets import QMessageBox

    win, session = _window_with_autosave_off(qtbot, "Not autosaved.")
    asked: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", _answering(asked, QMessageBox.StandardButton.Cancel))
    assert win.open_paths([str(synthetic_study)]) is False
    assert [t for t, _ in asked] == ["Open study"]
    assert win.annotations.session is session and win.controller.paths == [str(CASE)], "Cancel keeps the study"
    monkeypatch.setattr(QMessageBox, "warning", _answering(asked, QMessageBox.StandardButton.Discard))
    assert win.open_paths([str(synthetic_study)]) is True
    qtbot.waitUntil(lambda: study_loaded(win) and win.annotations.session not in (None, session), timeout=30_000)
    assert len(asked) == 2
    win.close()
