"""Fixtures for the viewer's GUI tests: the synthetic study of viewer_study.py in tmp_path, the
main window (``window``) and the window with that study loaded (``opened``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from viewer_study import study_loaded, write_study

from app.viewer.loading import prewarm

# The window's background warm-up imports the DICOM stack in a worker thread; a test that imports
# pydicom modules on the main thread at the same moment can meet it in pydicom's circular imports
# and get a partially initialised module (a flaky ImportError seen in test_viewer_tools). Import it
# all once here, before any window exists, so the warm-up finds everything imported.
prewarm()


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
