"""The installed Qt binding must not leak references to None.

PySide6-Essentials 6.12.0 on CPython 3.11 takes one reference from None on every Qt call that
returns nothing; a long session then aborts with "Fatal Python error: none_dealloc".
pyproject.toml pins PySide6 below 6.12; this test fails if a broken build is installed."""

import sys

import pytest

pytestmark = pytest.mark.gui


def test_void_qt_calls_do_not_leak_references_to_none(qtbot):
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(500):
        label.setText("x")
        label.update()
    lost = before - sys.getrefcount(None)
    assert lost < 50, f"{lost} references to None lost in 1000 Qt calls (broken PySide6 build?)"
