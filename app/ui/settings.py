"""Settings remembered between runs: an ini file under app.core.paths.user_data_dir() (tests set
ISTHMUS_DATA_DIR, so they never touch the real one)."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from app.core.paths import user_data_dir

MAX_RECENT = 10


class Settings:
    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else user_data_dir() / "settings.ini"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.q = QSettings(str(self.path), QSettings.Format.IniFormat)

    def get(self, key: str, default=None):
        v = self.q.value(key, default)
        if isinstance(default, bool):
            return v in (True, "true", "1", 1)
        return v

    def set(self, key: str, value) -> None:
        self.q.setValue(key, value)

    def recent(self) -> list[list[str]]:
        raw = self.q.value("recent/studies", "[]")
        try:
            items = json.loads(raw) if isinstance(raw, str) else []
        except ValueError:
            items = []
        return [list(map(str, x)) for x in items if isinstance(x, list)]

    def add_recent(self, paths: list[str]) -> None:
        paths = [str(Path(p).resolve()) for p in paths]
        items = [x for x in self.recent() if x != paths]
        items.insert(0, paths)
        self.q.setValue("recent/studies", json.dumps(items[:MAX_RECENT]))

    def geometry(self) -> QByteArray | None:
        v = self.q.value("window/geometry")
        return v if isinstance(v, QByteArray) else None

    def sync(self) -> None:
        self.q.sync()
