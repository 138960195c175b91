"""Fixtures for the viewer's GUI tests: the synthetic study of viewer_study.py in tmp_path, the
main window (``window``) and the window with that study loaded (``opened``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from viewer_study import study_loaded, write_study


@pytest.fixture(scope="session")
def synthetic_study(tmp_path_factory) -> Path:
    return write_study(tmp_path_factory.mktemp("study"))


@pytest.fixture(scope="session")
def study_without_right_oblique(tmp_path_factory) -> Path:
    return write_study(tmp_path_factory.mktemp("study_no_ro"), with_right_oblique=False)


@pytest.fixture
def window(qtbot):
    from app.ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1500, 900)
    win.show()
    yield win
    win.close()


@pytest.fixture
def opened(synthetic_study, window, qtbot):
    """The window with the synthetic study shown (the study is written before the window starts
    its background imports: pydicom is never imported by two threads at once)."""
    window.open_paths([str(synthetic_study)])
    qtbot.waitUntil(lambda: study_loaded(window), timeout=30_000)
    return window
