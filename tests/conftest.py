"""Shared test set-up: Qt offscreen, user data in a temp folder."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture(autouse=True)
def _isolated_user_data(tmp_path_factory, monkeypatch):
    """Autosaves and settings never touch the real home folder in tests."""
    monkeypatch.setenv("ISTHMUS_DATA_DIR", str(tmp_path_factory.mktemp("userdata")))
