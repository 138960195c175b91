"""The study browser says what it did not show, by kind: companion files (a README, a DICOMDIR,
a duplicate copy) in grey, unreadable DICOM files as a warning."""

from __future__ import annotations

from viewer_study import write_dx


def _browser_rows(result):
    from app.ui.browser import StudyBrowser

    b = StudyBrowser()
    b.populate(result, False)
    top = [b.topLevelItem(i) for i in range(b.topLevelItemCount())]
    return b, top


def test_companion_files_are_listed_quietly(qtbot, tmp_path):
    from app.dicom import scan_paths

    write_dx(tmp_path / "dx", "L-SPINE AP", 1, "AP")
    (tmp_path / "README.md").write_text("case notes", encoding="utf-8")
    (tmp_path / "reference_read.json").write_text("{}", encoding="utf-8")
    b, top = _browser_rows(scan_paths([str(tmp_path)]))
    qtbot.addWidget(b)
    row = top[-1]
    assert row.text(0) == "2 not DICOM \u2014 not shown"
    assert sorted(row.child(i).text(0) for i in range(row.childCount())) == [
        "README.md: not DICOM", "reference_read.json: not DICOM"]


def test_an_unreadable_dicom_file_is_a_warning_named_with_its_problem(qtbot, tmp_path):
    from app.dicom import scan_paths

    path = write_dx(tmp_path / "dx", "L-SPINE AP", 1, "AP")
    data = path.read_bytes()
    (tmp_path / "dx" / "cut.dcm").write_bytes(data[: 132 + 40])  # the preamble and a few header bytes
    (tmp_path / "README.md").write_text("case notes", encoding="utf-8")
    b, top = _browser_rows(scan_paths([str(tmp_path)]))
    qtbot.addWidget(b)
    row = top[-1]
    assert row.text(0).startswith("\u26a0 1 unreadable")
    assert row.text(0).endswith("1 not DICOM \u2014 not shown")
    assert any(row.child(i).text(0).startswith("cut.dcm: ") for i in range(row.childCount()))
