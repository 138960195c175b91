"""Help > About: version, build date, ruleset version, intended use, bundled licences."""

from __future__ import annotations

import json
import shutil
from importlib import metadata

import pytest

from app import __version__
from app.about import INTENDED_USE, SOURCE_BUILD, build_info, bundled_components, ruleset_version
from app.core.paths import resources_dir


def test_from_source_the_build_date_says_it_is_not_a_build(monkeypatch, tmp_path):
    monkeypatch.setenv("ISTHMUS_RESOURCES", str(tmp_path))
    assert build_info() == {"version": __version__, "build_date": SOURCE_BUILD, "commit": "unknown"}


def test_a_bundle_reads_its_build_info(monkeypatch, tmp_path):
    (tmp_path / "build_info.json").write_text(json.dumps(
        {"version": __version__, "build_date": "2026-11-29 09:00 UTC", "commit": "abc1234", "left_out": ["pydicom"]}))
    monkeypatch.setenv("ISTHMUS_RESOURCES", str(tmp_path))
    assert build_info()["build_date"] == "2026-11-29 09:00 UTC" and build_info()["commit"] == "abc1234"
    assert "pydicom" not in {c.name for c in bundled_components()}


def test_an_unreadable_build_info_is_unknown_not_a_date(monkeypatch, tmp_path):
    (tmp_path / "build_info.json").write_text("{not json")
    monkeypatch.setenv("ISTHMUS_RESOURCES", str(tmp_path))
    assert build_info()["build_date"].startswith("unknown (")


def test_components_and_licences_come_from_package_metadata():
    comps = {c.name.lower(): c for c in bundled_components()}
    for dist in ("pydicom", "numpy", "highdicom", "python-gdcm", "pylibjpeg-openjpeg"):
        assert comps[dist].version == metadata.version(dist)
        assert comps[dist].licence and not comps[dist].licence.startswith("unknown")
    assert "pytest" not in comps  # a test extra is not bundled
    assert comps["python"].licence == "PSF-2.0"


def test_ruleset_version_names_the_bundled_ruleset(monkeypatch, tmp_path):
    from app.pathway import load_ruleset

    rs = load_ruleset()
    assert ruleset_version().startswith(f"{rs.id} {rs.version}")
    shutil.copytree(resources_dir(), tmp_path / "res")
    (tmp_path / "res" / "pathway" / "pathway.toml").write_text("not = [valid")
    monkeypatch.setenv("ISTHMUS_RESOURCES", str(tmp_path / "res"))
    assert ruleset_version().startswith("unknown (the pathway ruleset did not load")


@pytest.mark.gui
def test_about_dialog_shows_everything(qtbot):
    from app.ui.dialogs.about import AboutDialog

    dlg = AboutDialog()
    qtbot.addWidget(dlg)
    text = dlg.header.text()
    assert __version__ in text and "not a certified medical device" in text and "not a diagnosis" in text
    assert INTENDED_USE.split(";")[0] in text
    assert ruleset_version().split(" (")[0] in text
    names = [dlg.table.item(r, 0).text() for r in range(dlg.table.rowCount())]
    assert "pydicom" in names and "Qt" in names and "Python" in names


@pytest.mark.gui
def test_help_menu_opens_the_about_dialog(qtbot):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.ui.dialogs.about import AboutDialog
    from app.ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    action = win.actions["help.about"]
    help_menu = next(a.menu() for a in win.menuBar().actions() if a.text().replace("&", "") == "Help")
    assert action in help_menu.actions() and action.isEnabled()
    seen = []

    def close_it():
        dlg = QApplication.activeModalWidget()
        seen.append(type(dlg))
        dlg.reject()

    QTimer.singleShot(100, close_it)
    action.trigger()
    assert seen == [AboutDialog]
    win.close()
