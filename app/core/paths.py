"""One resolver for the top-level resources/ and sample_dicom/ folders.

Order: environment override, frozen bundle (PyInstaller's sys._MEIPASS), source checkout.
Domain code accepts explicit paths; this module only supplies defaults.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[2]


def _base() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    return Path(frozen) if frozen else _REPO_ROOT


def resources_dir() -> Path:
    env = os.environ.get("ISTHMUS_RESOURCES")
    return Path(env) if env else _base() / "resources"


def sample_dicom_dir() -> Path:
    env = os.environ.get("ISTHMUS_SAMPLES")
    return Path(env) if env else _base() / "sample_dicom"


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def user_data_dir() -> Path:
    """Where autosaves and settings live (XDG on Linux; ISTHMUS_DATA_DIR overrides)."""
    env = os.environ.get("ISTHMUS_DATA_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32":
        root = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    elif sys.platform == "darwin":
        root = Path.home() / "Library" / "Application Support"
    else:
        root = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return root / "isthmus"
