"""Settings remembered between runs: a plain ini file under app.core.paths.user_data_dir() (tests
set ISTHMUS_DATA_DIR, so they never touch the real one).

Only plain values are stored (strings, numbers, booleans, lists of them), each as JSON text
read and written with the standard library's configparser: no QSettings variants, so nothing
is ever pickled or unpickled at start-up. Window geometry and dock state are base64 text.
"""

from __future__ import annotations

import base64
import binascii
import configparser
import json
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray

from app.core.atomic import write_text_atomic
from app.core.paths import user_data_dir

log = logging.getLogger(__name__)

MAX_RECENT = 10
_PLAIN = (str, int, float, bool, type(None))


def _is_plain(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    return isinstance(value, _PLAIN)


class Settings:
    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else user_data_dir() / "settings.ini"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._ini = configparser.ConfigParser(interpolation=None)
        self._ini.optionxform = str  # keep the keys' case
        try:
            self._ini.read(self.path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError) as exc:
            log.warning("%s: settings not read (%s); starting with defaults", self.path, exc)

    @staticmethod
    def _split(key: str) -> tuple[str, str]:
        section, _, name = key.partition("/")
        return (section, name) if name else ("general", section)

    def get(self, key: str, default: Any = None) -> Any:
        """The stored plain value, or ``default`` when absent, unreadable or of another type than
        a given default (a bool default accepts only booleans)."""
        section, name = self._split(key)
        raw = self._ini.get(section, name, fallback=None)
        if raw is None:
            return default
        try:
            value = json.loads(raw)
        except ValueError:
            return default
        if not _is_plain(value):
            return default
        if default is not None and not isinstance(value, type(default)) and not (
                isinstance(default, float) and isinstance(value, int)):
            return default
        return value

    def set(self, key: str, value: Any) -> None:
        """Store a plain value; TypeError for anything else (no object is ever pickled)."""
        if isinstance(value, QByteArray):
            value = base64.b64encode(bytes(value)).decode("ascii")
        if not _is_plain(value):
            raise TypeError(f"setting {key}: only plain values are stored, not {type(value).__name__}")
        section, name = self._split(key)
        if not self._ini.has_section(section):
            self._ini.add_section(section)
        self._ini.set(section, name, json.dumps(value))

    def get_bytes(self, key: str) -> QByteArray | None:
        text = self.get(key, "")
        if not text:
            return None
        try:
            return QByteArray(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            return None

    def recent(self) -> list[list[str]]:
        items = self.get("recent/studies", [])
        return [list(map(str, x)) for x in items if isinstance(x, list)]

    def add_recent(self, paths: list[str]) -> None:
        paths = [str(Path(p).resolve()) for p in paths]
        items = [x for x in self.recent() if x != paths]
        items.insert(0, paths)
        self.set("recent/studies", items[:MAX_RECENT])
        self.sync()

    def geometry(self) -> QByteArray | None:
        return self.get_bytes("window/geometry")

    def sync(self) -> None:
        import io

        buf = io.StringIO()
        self._ini.write(buf)
        try:
            write_text_atomic(self.path, buf.getvalue())
        except OSError as exc:
            log.warning("%s: settings not saved (%s)", self.path, exc)
