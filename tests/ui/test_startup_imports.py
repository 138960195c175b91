"""Start-up imports (issue 16, first image): the early DICOM import leaves ``requests`` out (pydicom
only uses it to download its own test files) and ``requests`` imports normally afterwards; the
window is built without the pathway engine and the study session (imported after the first
image)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, tmp_path: Path) -> str:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", ISTHMUS_DATA_DIR=str(tmp_path),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=str(ROOT),
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_the_early_dicom_import_leaves_requests_out_and_requests_still_imports(tmp_path):
    out = _run("import sys\n"
               "from app.ui.main import _prewarm_dicom\n"
               "_prewarm_dicom()\n"
               "print('pydicom' in sys.modules, 'pydicom.pixels' in sys.modules, 'requests' in sys.modules)\n"
               "import requests\n"
               "print(requests.__name__)\n", tmp_path)
    assert out.split() == ["True", "True", "False", "requests"]


def test_a_window_opening_a_study_waits_for_the_first_image_with_the_engine_and_the_extra_menus(tmp_path):
    out = _run("import sys\n"
               "from PySide6.QtWidgets import QApplication\n"
               "app = QApplication([])\n"
               "from app.ui.main_window import MainWindow\n"
               "w = MainWindow(defer_extras=True); w.show(); app.processEvents()\n"
               "late = ('app.pathway.engine', 'app.session', 'app.ui.dialogs.about', 'app.ui.teaching.attempt')\n"
               "print(sorted(m for m in late if m in sys.modules), hasattr(w, 'report'))\n"
               "w.install_extras(); w.install_extras()\n"
               "titles = [a.text().replace('&', '') for a in w.menuBar().actions()]\n"
               "print(titles.count('Teaching'), titles.count('Review'), hasattr(w, 'report'))\n"
               "w.close()\n", tmp_path)
    lines = out.strip().splitlines()
    assert lines[-2] == "[] False"  # none of it before the first image
    assert lines[-1] == "1 1 True"  # then installed once
