"""Fixtures for the viewer's GUI tests: the synthetic study of viewer_study.py in tmp_path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from viewer_study import write_study  # noqa: E402


@pytest.fixture(scope="session")
def synthetic_study(tmp_path_factory) -> Path:
    return write_study(tmp_path_factory.mktemp("study"))


@pytest.fixture(scope="session")
def study_without_right_oblique(tmp_path_factory) -> Path:
    return write_study(tmp_path_factory.mktemp("study_no_ro"), with_right_oblique=False)
